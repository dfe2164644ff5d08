import { canonicalJson, sha256Hex } from '#crypto';

/** The hash that precedes the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an entry's hash covers: everything but the hash itself. */
export interface ChainedFields {
  seq: number;
  id: string;
  occurredAt: Date;
  actorKind: string;
  actorId: string;
  action: string;
  outcome: string;
  keyId: string | null;
  requestId: string | null;
  attemptId: string | null;
  nodeId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

/** sha256 over the canonical JSON of the entry's fields (domain-tagged, version 1). */
export function entryHash(e: ChainedFields): string {
  return sha256Hex(
    canonicalJson({
      chain: 'roundtable/audit/v1',
      seq: e.seq,
      id: e.id,
      occurredAt: e.occurredAt.toISOString(),
      actorKind: e.actorKind,
      actorId: e.actorId,
      action: e.action,
      outcome: e.outcome,
      keyId: e.keyId,
      requestId: e.requestId,
      attemptId: e.attemptId,
      nodeId: e.nodeId,
      details: e.details,
      prevHash: e.prevHash,
    }),
  );
}

export type ChainVerdict =
  | { ok: true; checked: number; headHash: string }
  | { ok: false; checked: number; brokenAt: { seq: number; id: string; reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'seq_gap' } };

/** Incremental chain verifier: feed entries in seq order, then call `result()`. */
export class ChainVerifier {
  private prevHash = GENESIS_HASH;
  private expectedSeq = 1;
  private checked = 0;
  private broken: Extract<ChainVerdict, { ok: false }>['brokenAt'] | null = null;

  /** Returns false once the chain is broken (later entries are not examined). */
  push(e: ChainedFields & { hash: string }): boolean {
    if (this.broken) return false;
    if (e.seq !== this.expectedSeq) this.broken = { seq: e.seq, id: e.id, reason: 'seq_gap' };
    else if (e.prevHash !== this.prevHash) this.broken = { seq: e.seq, id: e.id, reason: 'prev_hash_mismatch' };
    else if (entryHash(e) !== e.hash) this.broken = { seq: e.seq, id: e.id, reason: 'hash_mismatch' };
    if (this.broken) return false;
    this.checked++;
    this.expectedSeq++;
    this.prevHash = e.hash;
    return true;
  }

  result(): ChainVerdict {
    return this.broken
      ? { ok: false, checked: this.checked, brokenAt: this.broken }
      : { ok: true, checked: this.checked, headHash: this.prevHash };
  }
}
