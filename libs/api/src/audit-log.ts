import { z } from 'zod';
import { Uuid, hexBytes } from '#protocol';
import { AuditEntryResponse, AuditQuery } from './audit.js';

const Size = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** `GET /v1/audit/log-key` (public): the log's Ed25519 note key, for offline verifiers. */
export const AuditLogKeyResponse = z.object({
  origin: z.string(),
  keyName: z.string(),
  /** Ed25519 public key, hex. */
  publicKey: hexBytes(32),
  /** The signed-note verifier key: `<name>+<hex key hash>+<base64(0x01 || public key)>`. */
  verifierKey: z.string(),
});
export type AuditLogKeyResponse = z.infer<typeof AuditLogKeyResponse>;

/** A signer node's cosignature of a checkpoint (C2SP tlog-cosignature, Ed25519, with its identity key). */
export const AuditCosignatureResponse = z.object({
  nodeId: Uuid,
  /** The cosigner's note key name (`roundtable-node/<first 16 hex digits of its identity key>`). */
  keyName: z.string(),
  /** The node's Ed25519 identity public key, hex: what an offline verifier is given. */
  publicKey: hexBytes(32),
  /** The cosignature's own timestamp (POSIX seconds, as signed). */
  timestamp: z.number().int().min(0),
  /** The signature line as it appears in the note: `— <key name> <base64(key id || timestamp || signature)>`. */
  line: z.string(),
});
export type AuditCosignatureResponse = z.infer<typeof AuditCosignatureResponse>;

/** `GET /v1/audit/checkpoint`: the latest signed checkpoint (C2SP tlog-checkpoint in a signed note). */
export const AuditCheckpointResponse = z.object({
  origin: z.string(),
  treeSize: z.number().int().min(0),
  rootHash: hexBytes(32),
  /** The whole signed note: the log's signature, then every cosignature collected for this size. */
  note: z.string(),
  createdAt: z.iso.datetime(),
  logKey: AuditLogKeyResponse,
  cosignatures: z.array(AuditCosignatureResponse),
});
export type AuditCheckpointResponse = z.infer<typeof AuditCheckpointResponse>;

/** `GET /v1/audit/proof/inclusion?seq=N&size=M`: PATH(N - 1, D[M]). */
export const AuditInclusionQuery = z.strictObject({ seq: Seq, size: Size.min(1) });
export type AuditInclusionQuery = z.infer<typeof AuditInclusionQuery>;
export const AuditInclusionProofResponse = z.object({
  seq: z.number().int().min(1),
  leafIndex: z.number().int().min(0),
  treeSize: z.number().int().min(1),
  hashes: z.array(hexBytes(32)),
});
export type AuditInclusionProofResponse = z.infer<typeof AuditInclusionProofResponse>;

/** `GET /v1/audit/proof/consistency?from=A&to=B`: PROOF(A, D[B]). */
export const AuditConsistencyQuery = z.strictObject({ from: Size, to: Size });
export type AuditConsistencyQuery = z.infer<typeof AuditConsistencyQuery>;
export const AuditConsistencyProofResponse = z.object({
  from: z.number().int().min(0),
  to: z.number().int().min(0),
  hashes: z.array(hexBytes(32)),
});
export type AuditConsistencyProofResponse = z.infer<typeof AuditConsistencyProofResponse>;

/** `GET /v1/audit/bundle?from=&to=`: entries (seq from..to), the latest checkpoint, a proof per entry. */
export const AuditBundleQuery = z
  .strictObject({
    from: Seq,
    to: Seq,
    /** The bundle's checkpoint: the newest one with at least this many cosignatures (default 0: the newest). */
    witnesses: z.coerce.number().int().min(0).max(1000).default(0),
  })
  .refine((q) => q.to - q.from < 10_000, {
  message: 'at most 10000 entries per bundle',
});
export type AuditBundleQuery = z.infer<typeof AuditBundleQuery>;
export const AuditBundleResponse = z.object({
  checkpoint: z.object({ note: z.string(), treeSize: z.number().int().min(0), rootHash: hexBytes(32), cosignatures: z.array(AuditCosignatureResponse) }),
  entries: z.array(AuditEntryResponse),
  proofs: z.array(z.object({ seq: z.number().int().min(1), treeSize: z.number().int().min(1), hashes: z.array(hexBytes(32)) })),
  logKey: AuditLogKeyResponse,
});
export type AuditBundleResponse = z.infer<typeof AuditBundleResponse>;

/**
 * `GET /v1/audit/witnesses`: each enrolled node as a witness of the log: the largest size it cosigned
 * (and when), and its latest refusal (an inconsistent checkpoint is a rewritten log: an alarm).
 */
export const AuditWitnessResponse = z.object({
  nodeId: Uuid,
  label: z.string(),
  keyName: z.string(),
  publicKey: hexBytes(32),
  connected: z.boolean(),
  /** The largest tree size this node cosigned (null: none yet). */
  cosignedSize: z.number().int().min(0).nullable(),
  cosignedAt: z.iso.datetime().nullable(),
  /** How far behind the latest checkpoint the node's cosignature is (entries; null: none yet). */
  behind: z.number().int().min(0).nullable(),
  lastRefusal: z
    .object({ code: z.string(), message: z.string(), treeSize: z.number().int().min(0), at: z.iso.datetime() })
    .nullable(),
});
export type AuditWitnessResponse = z.infer<typeof AuditWitnessResponse>;
export const AuditWitnessesResponse = z.object({
  origin: z.string(),
  /** The latest checkpoint's size (0 before the first). */
  treeSize: z.number().int().min(0),
  witnesses: z.array(AuditWitnessResponse),
});
export type AuditWitnessesResponse = z.infer<typeof AuditWitnessesResponse>;

/** `GET /v1/audit/export?format=jsonl|csv&<the list filters>`: every matching entry, streamed in chain order. */
export const AuditExportQuery = AuditQuery.omit({ limit: true }).extend({ format: z.enum(['jsonl', 'csv']).default('jsonl') });
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;
/** The CSV export's columns, in order (`actor` split in two, `details` as canonical JSON). */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'id',
  'occurredAt',
  'actorKind',
  'actorId',
  'action',
  'outcome',
  'keyId',
  'requestId',
  'attemptId',
  'nodeId',
  'details',
  'prevHash',
  'hash',
] as const;
