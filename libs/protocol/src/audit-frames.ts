import { z } from 'zod';
import { Text, hexBytes } from './primitives.js';

/**
 * The signer nodes as witnesses of the transparency log (issue 11, C2SP tlog-witness semantics over the
 * node WebSocket):
 *
 *   coordinator -> node   audit.checkpoint   a signed checkpoint, the log key, a consistency proof from the
 *                                            size the node last cosigned (as the coordinator knows it)
 *   node -> coordinator   audit.cosignature  the node's C2SP tlog-cosignature line for that checkpoint
 *   node -> coordinator   audit.refused      why the node does not cosign (CHECKPOINT_OLD_SIZE names the
 *                                            size it did cosign, so that the coordinator can send a proof
 *                                            from there; CHECKPOINT_INCONSISTENT is a rewritten log)
 *
 * The node pins the log key per origin at first sight and keeps, durably, the largest tree it cosigned.
 */
const PROTOCOL_VERSION = 1 as const;
const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), type: z.literal(type), ...shape });

const TreeSize = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A note's origin line and key names: one line, no whitespace or '+' in a key name (C2SP signed-note). */
const Origin = Text(256).min(1);
/** A consistency proof has at most 2·log2(size) hashes; 128 covers any tree a safe integer can size. */
const MAX_PROOF_HASHES = 128;

/** Why a node does not cosign (see libs/audit witness.ts); WITNESS_STATE_UNREADABLE: its own record is damaged. */
export const WITNESS_REFUSAL_CODES = ['CHECKPOINT_INVALID', 'LOG_KEY_CHANGED', 'CHECKPOINT_OLD_SIZE', 'CHECKPOINT_INCONSISTENT', 'WITNESS_STATE_UNREADABLE'] as const;

export const AuditCheckpointFrame = frame('audit.checkpoint', {
  origin: Origin,
  treeSize: TreeSize,
  /** The checkpoint as a signed note (the log's signature line only). */
  note: Text(4096).min(1),
  /** The log's Ed25519 public key, hex. */
  logPublicKey: hexBytes(32),
  /** The size the coordinator believes this node last cosigned (0: none). */
  oldSize: TreeSize,
  /** PROOF(oldSize, D[treeSize]), hex hashes. */
  consistency: z.array(hexBytes(32)).max(MAX_PROOF_HASHES),
});

export const AuditCosignatureFrame = frame('audit.cosignature', {
  origin: Origin,
  treeSize: TreeSize,
  /** `— <name> <base64(key id || timestamp || signature)>`, without its newline. */
  line: Text(512).min(1),
});

export const AuditRefusedFrame = frame('audit.refused', {
  origin: Origin,
  treeSize: TreeSize,
  code: z.enum(WITNESS_REFUSAL_CODES),
  message: Text(500),
  /** The size this node last cosigned, when it has one (the coordinator resends with a proof from it). */
  witnessSize: TreeSize.optional(),
});

export type AuditCheckpointFrame = z.infer<typeof AuditCheckpointFrame>;
export type AuditCosignatureFrame = z.infer<typeof AuditCosignatureFrame>;
export type AuditRefusedFrame = z.infer<typeof AuditRefusedFrame>;
