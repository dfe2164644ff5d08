import type { AttemptPackageFrame, AttemptRefuseFrame, Outgoing, RefusalCode, RequestAwaitingFrame } from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import type { NonceStore } from '../nonces/nonce-store.js';
import type { PolicyEvaluation } from '../policy/policy-types.js';

/** Small frame builders of the signing service (signing-service.ts). */

export const MAX_REASON = 500;

export const intentHashOf = (seen: { derived: { intentHash: string } } | { intentHash: string }): string =>
  'derived' in seen ? seen.derived.intentHash : seen.intentHash;

export function awaitingFrame(requestId: string, intentHash: string, asked: Omit<PolicyEvaluation, 'outcome'>): Outgoing<RequestAwaitingFrame> {
  return { type: 'request.awaiting', requestId, intentHash, policyHash: asked.policyHash, rule: asked.rule, reason: asked.reason };
}

export function refusal(pkg: AttemptPackageFrame, code: RefusalCode, reason: string): Outgoing<AttemptRefuseFrame> {
  return { type: 'attempt.refuse', requestId: pkg.requestId, attemptId: pkg.attemptId, code, reason: reason.slice(0, MAX_REASON) };
}

/**
 * A package for a request this node holds no proposal for. After a restart the coordinator re-sends
 * a pending attempt's package before proposing again; the nonce behind it died with the previous
 * process. Saying so (NONCE_CONSUMED / NONCE_UNKNOWN) rather than NOT_PROPOSED keeps an honest
 * restarted node from being blamed for refusing to sign.
 */
export function unproposedRefusal(pkg: AttemptPackageFrame, share: KeyShare | null, nonces: NonceStore): [RefusalCode, string] {
  const mine = share ? pkg.commitments.find((c) => c.identifier === share.identifier) : undefined;
  switch (mine ? nonces.status(pkg.requestId, mine) : undefined) {
    case 'consumed':
      return ['NONCE_CONSUMED', "the nonce behind this node's commitment was already used or discarded (the node may have restarted)"];
    case 'unknown':
      return ['NONCE_UNKNOWN', 'this node has no record of the commitment listed for it (the node may have restarted)'];
    default:
      return ['NOT_PROPOSED', `this node accepted no proposal for request ${pkg.requestId}`];
  }
}
