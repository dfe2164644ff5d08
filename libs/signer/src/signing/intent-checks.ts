import { bytesToHex } from '#crypto';
import { intentHash, signedBytes } from '#intent';
import type { Intent, RefusalCode, RequestProposeFrame } from '#protocol';
import { describeError } from '../logger.js';

/** What the node itself derived from a proposal's intent: the hash it signs decisions over and the bytes FROST signs. */
export interface DerivedIntent {
  intent: Intent;
  intentHash: string;
  /** `signedBytes(intent.payload)` as lower-case hex: the only message a package may carry. */
  digest: string;
}

export type IntentCheck = { ok: true; derived: DerivedIntent } | { ok: false; code: RefusalCode; reason: string };

/**
 * Recomputes, from the intent alone, its hash and the bytes it would sign, and compares the hash with
 * the coordinator's. Never trusts anything the coordinator derived: an intent the node cannot hash or
 * derive bytes from is INTENT_INVALID, a hash that differs INTENT_MISMATCH.
 */
export function deriveIntent(p: Pick<RequestProposeFrame, 'intent' | 'intentHash'>): IntentCheck {
  let hash: string;
  let digest: string;
  try {
    hash = intentHash(p.intent);
    digest = bytesToHex(signedBytes(p.intent.payload));
  } catch (e) {
    return { ok: false, code: 'INTENT_INVALID', reason: `this node cannot derive the bytes to sign from the intent: ${describeError(e)}` };
  }
  if (hash !== p.intentHash.toLowerCase()) {
    return {
      ok: false,
      code: 'INTENT_MISMATCH',
      reason: `the intent hashes to ${hash} on this node, not to the proposal's ${p.intentHash}`,
    };
  }
  return { ok: true, derived: { intent: p.intent, intentHash: hash, digest } };
}
