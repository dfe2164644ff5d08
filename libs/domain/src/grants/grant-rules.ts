import { verifyGrantDecision } from '#intent';
import { GRANT_VERSION, Grant, type GrantScope, type Grantee, type GrantRefusal, type SignedGrantDecision } from '#protocol';
import { decidedFields, signedFieldsOf } from '../common/node-decisions.js';
import { DomainError } from '../errors.js';
import { isTerminalRequest, type GrantDecisionRecord, type GrantRecord, type GrantStatus, type KeyRecord, type SigningRequestRecord } from '../records.js';

/**
 * The coordinator's rules for session-key grants (issue 10), pure: what a new grant must satisfy, where
 * a grant stands at a time, whether a node's decision counts, and the tally that activates or rejects it.
 */

/** The longest a grant may be valid unless configured otherwise. */
export const DEFAULT_MAX_GRANT_VALIDITY_MS = 90 * 24 * 3600 * 1000;
/** How far an agent's timestamp may be from the coordinator's clock, either way. */
export const AGENT_FRESHNESS_MS = 60_000;

export interface GrantProposal {
  keyId: string;
  grantee: Grantee;
  label: string;
  validAfter?: number;
  validUntil: number;
  scope: GrantScope;
}

/**
 * The canonical grant for a proposal, or VALIDATION_FAILED: validUntil after validAfter and in the
 * future, validity at most `maxValidityMs`, an eip712 scope naming domains and primary types.
 */
export function buildGrant(id: string, input: GrantProposal, proposer: string, now: number, maxValidityMs: number): Grant {
  const validAfter = input.validAfter ?? now;
  if (input.validUntil <= validAfter) throw new DomainError('VALIDATION_FAILED', 'validUntil must be after validAfter');
  if (input.validUntil <= now) throw new DomainError('VALIDATION_FAILED', 'validUntil has passed');
  if (input.validUntil - validAfter > maxValidityMs) {
    throw new DomainError('VALIDATION_FAILED', `a grant may be valid for at most ${maxValidityMs} ms (${Math.round(maxValidityMs / 86_400_000)} days)`, { maxValidityMs });
  }
  const { scope } = input;
  if (scope.kinds.includes('eip712') && (!scope.domains?.length || !scope.primaryTypes?.length)) {
    throw new DomainError('VALIDATION_FAILED', 'a scope allowing eip712 must name its domains and primaryTypes (deny by default)');
  }
  const parsed = Grant.safeParse({
    version: GRANT_VERSION,
    id,
    keyId: input.keyId,
    grantee: input.grantee,
    label: input.label,
    validAfter,
    validUntil: input.validUntil,
    scope,
    proposer,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new DomainError('VALIDATION_FAILED', issues.map((i) => `${i.path || '(grant)'}: ${i.message}`).join('; '), { issues });
  }
  return parsed.data;
}

/** The grant's status at `now`: a proposed or active grant past its validUntil is expired. */
export function effectiveStatus(grant: Pick<GrantRecord, 'status' | 'validUntil'>, now: number): GrantStatus {
  if ((grant.status === 'active' || grant.status === 'proposed') && grant.validUntil.getTime() <= now) return 'expired';
  return grant.status;
}

/** Why no request may be made under the grant at `now`, or null when it may (status and validity only). */
export function grantUnusable(grant: GrantRecord, now: number): { code: GrantRefusal; reason: string } | null {
  const status = effectiveStatus(grant, now);
  if (status === 'revoked') return { code: 'GRANT_REVOKED', reason: `grant ${grant.id} was revoked${grant.revokeReason ? `: ${grant.revokeReason}` : ''}` };
  if (status === 'expired') return { code: 'GRANT_EXPIRED', reason: `grant ${grant.id} expired at ${grant.validUntil.toISOString()}` };
  if (status !== 'active') return { code: 'GRANT_NOT_ACTIVE', reason: `grant ${grant.id} is ${status}, not active` };
  if (now < grant.grant.validAfter) return { code: 'GRANT_NOT_YET_VALID', reason: `grant ${grant.id} is valid from ${new Date(grant.grant.validAfter).toISOString()}` };
  return null;
}

/**
 * Why `d` cannot count as the node's decision on the grant, or null when it can: the grant and its hash,
 * the signature under the node's identity key, and a first decision that stands.
 */
export function grantDecisionProblem(d: SignedGrantDecision, frameGrantId: string, grant: GrantRecord, publicKey: string | undefined, earlier: GrantDecisionRecord | null): string | null {
  if (d.grantId !== frameGrantId || d.grantId !== grant.id) return `the decision is for grant ${d.grantId}, not ${grant.id}`;
  if (d.grantHash !== grant.grantHash) return `the decision is for grant hash ${d.grantHash}, not this grant's ${grant.grantHash}`;
  if (publicKey === undefined || !verifyGrantDecision(publicKey, d)) return "the decision's signature does not verify under the node's identity key";
  if (earlier?.verdict && earlier.verdict !== d.verdict) return `the node already decided ${earlier.verdict} on this grant; its first decision stands`;
  return null;
}

export const grantDecisionRecord = (nodeId: string, d: SignedGrantDecision, earlier: GrantDecisionRecord | null, now: Date): GrantDecisionRecord => ({
  grantId: d.grantId,
  ...decidedFields(nodeId, d, earlier, now),
});

/** A stored decision as the node signed it, or null for a row that has none. */
export function signedGrantDecisionOf(r: GrantDecisionRecord, grantHash: string): SignedGrantDecision | null {
  const signed = signedFieldsOf(r);
  return signed && { grantId: r.grantId, grantHash, ...signed };
}

/** `active` once at least t members approved, `rejected` once more than n - t declined, else unchanged. */
export function tally(key: Pick<KeyRecord, 'threshold' | 'members'>, rows: readonly GrantDecisionRecord[]): 'active' | 'rejected' | null {
  const members = new Set(key.members.map((m) => m.nodeId));
  const of = (v: 'approve' | 'decline') => rows.filter((r) => members.has(r.nodeId) && r.verdict === v).length;
  if (of('approve') >= key.threshold) return 'active';
  if (of('decline') > key.members.length - key.threshold) return 'rejected';
  return null;
}

/** The requests that count against a grant's limits: every one not failed, expired or cancelled. */
export const countedRequests = (requests: readonly SigningRequestRecord[]) =>
  requests.filter((r) => r.status === 'completed' || !isTerminalRequest(r.status)).map((r) => ({ requestId: r.id, at: r.createdAt.getTime(), intent: r.intent }));
