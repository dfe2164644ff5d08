import { z } from 'zod';
import { hexBytes } from '#protocol';
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

/** `GET /v1/audit/checkpoint`: the latest signed checkpoint (C2SP tlog-checkpoint in a signed note). */
export const AuditCheckpointResponse = z.object({
  origin: z.string(),
  treeSize: z.number().int().min(0),
  rootHash: hexBytes(32),
  /** The whole signed note. */
  note: z.string(),
  createdAt: z.iso.datetime(),
  logKey: AuditLogKeyResponse,
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
export const AuditBundleQuery = z.strictObject({ from: Seq, to: Seq }).refine((q) => q.to - q.from < 10_000, {
  message: 'at most 10000 entries per bundle',
});
export type AuditBundleQuery = z.infer<typeof AuditBundleQuery>;
export const AuditBundleResponse = z.object({
  checkpoint: z.object({ note: z.string(), treeSize: z.number().int().min(0), rootHash: hexBytes(32) }),
  entries: z.array(AuditEntryResponse),
  proofs: z.array(z.object({ seq: z.number().int().min(1), treeSize: z.number().int().min(1), hashes: z.array(hexBytes(32)) })),
  logKey: AuditLogKeyResponse,
});
export type AuditBundleResponse = z.infer<typeof AuditBundleResponse>;

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
