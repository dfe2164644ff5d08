import { bytesToHex, hexToBytes } from '#crypto';
import type { WITNESS_REFUSAL_CODES } from '#protocol';
import { CheckpointError, openCheckpoint, type Checkpoint } from './checkpoint.js';
import { verifyConsistency } from './merkle.js';

/** What a witness remembers of a log: the key it signs with, the largest tree it cosigned. */
export interface WitnessedLog {
  origin: string;
  /** The log's Ed25519 note key, hex: pinned the first time the witness sees the origin. */
  logPublicKey: string;
  size: number;
  /** Root hash of that tree, hex. */
  rootHash: string;
}

/** A checkpoint shown to a witness: the signed note, the log key, and a consistency proof from `oldSize`. */
export interface WitnessRequest {
  note: string;
  logPublicKey: string;
  /** The size the log believes the witness last cosigned (0: none). */
  oldSize: number;
  /** PROOF(oldSize, D[size]) as hex hashes. */
  consistency: readonly string[];
}

/**
 * Why a witness refuses (#protocol WITNESS_REFUSAL_CODES): CHECKPOINT_INVALID (not signed by the log key,
 * malformed, another origin), LOG_KEY_CHANGED (the origin is pinned to another key: a key change is a new
 * origin, never a silent swap), CHECKPOINT_OLD_SIZE (`oldSize` is not what this witness cosigned: ask
 * again with a proof from `witnessSize`), CHECKPOINT_INCONSISTENT (smaller than, or not an extension of,
 * the tree this witness cosigned: the log was rewritten).
 */
export type WitnessRefusalCode = Exclude<(typeof WITNESS_REFUSAL_CODES)[number], 'WITNESS_STATE_UNREADABLE'>;

export type WitnessVerdict =
  | { ok: true; checkpoint: Checkpoint; next: WitnessedLog }
  | { ok: false; code: WitnessRefusalCode; message: string; witnessSize?: number };

/**
 * The witness's check (C2SP tlog-witness semantics): the note verifies under the log key (pinned per origin
 * at first sight), `oldSize` is the size this witness last cosigned, and the consistency proof shows the
 * new tree extends that one. Pure: the caller persists `next` before it releases the cosignature, and runs
 * one check at a time per log (check and persist must be atomic, or the log could fork under a race).
 */
export function witnessCheckpoint(last: WitnessedLog | null, request: WitnessRequest): WitnessVerdict {
  let logKey: Uint8Array;
  try {
    logKey = hexToBytes(request.logPublicKey);
    if (logKey.length !== 32) throw new CheckpointError('the log key is 32 bytes');
  } catch {
    return { ok: false, code: 'CHECKPOINT_INVALID', message: 'the log key is not 32 bytes of hex' };
  }
  let cp: Checkpoint;
  try {
    const opened = openCheckpoint(request.note, logKey);
    if (opened.keyName !== opened.origin) throw new CheckpointError(`the log's signature is by ${opened.keyName}, not by its origin ${opened.origin}`);
    cp = { origin: opened.origin, size: opened.size, root: opened.root };
  } catch (e) {
    return { ok: false, code: 'CHECKPOINT_INVALID', message: e instanceof Error ? e.message : String(e) };
  }
  const next: WitnessedLog = { origin: cp.origin, logPublicKey: bytesToHex(logKey), size: cp.size, rootHash: bytesToHex(cp.root) };
  if (last === null) {
    // First sight of this log: nothing to be consistent with (trust on first use, the key pinned from now on).
    if (request.oldSize !== 0) return { ok: false, code: 'CHECKPOINT_OLD_SIZE', message: `this witness has cosigned nothing of ${cp.origin}`, witnessSize: 0 };
    return { ok: true, checkpoint: cp, next };
  }
  if (last.origin !== cp.origin) return { ok: false, code: 'CHECKPOINT_INVALID', message: `the checkpoint is for ${cp.origin}, not ${last.origin}` };
  if (last.logPublicKey !== next.logPublicKey) {
    return { ok: false, code: 'LOG_KEY_CHANGED', message: `${cp.origin} is signed by another key than the one this witness pinned (${last.logPublicKey.slice(0, 16)}…)` };
  }
  if (cp.size < last.size) {
    return { ok: false, code: 'CHECKPOINT_INCONSISTENT', message: `size ${cp.size} is smaller than ${last.size}, which this witness cosigned: the log shrank`, witnessSize: last.size };
  }
  if (request.oldSize !== last.size) {
    return { ok: false, code: 'CHECKPOINT_OLD_SIZE', message: `this witness last cosigned size ${last.size}, not ${request.oldSize}`, witnessSize: last.size };
  }
  let proof: Uint8Array[];
  try {
    proof = request.consistency.map(hexToBytes);
  } catch {
    return { ok: false, code: 'CHECKPOINT_INCONSISTENT', message: 'the consistency proof is not hex', witnessSize: last.size };
  }
  const verdict = verifyConsistency(last.size, cp.size, hexToBytes(last.rootHash), cp.root, proof);
  if (verdict !== null) {
    return { ok: false, code: 'CHECKPOINT_INCONSISTENT', message: `not consistent with size ${last.size} this witness cosigned: ${verdict}`, witnessSize: last.size };
  }
  return { ok: true, checkpoint: cp, next };
}
