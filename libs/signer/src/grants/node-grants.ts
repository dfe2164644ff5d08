import { checkScope, grantDecisionTranscript, grantHash, grantRevocationTranscript, verifyAgentAuthorization } from '#intent';
import type {
  GrantAwaitingFrame,
  GrantDecisionFrame,
  GrantProposeFrame,
  GrantRevokeFrame,
  GrantRevokedFrame,
  Intent,
  Outgoing,
  RefusalCode,
  RequestGrant,
  SignedGrantDecision,
  UnsignedGrantDecision,
} from '#protocol';
import { ApprovalsRefusal } from '../approvals/approvals-protocol.js';
import { describeError, silentLogger, type SignerLogger } from '../logger.js';
import { clip } from '../policy/policy-evaluate.js';
import type { NodePolicy, PolicyEvaluation } from '../policy/policy-types.js';
import type { GrantDecided, GrantRecord, GrantRevoked } from './grant-protocol.js';
import { grantItem, type GrantStore } from './grant-store.js';

/** Signs with the node's identity key (the keystore, in production). */
export interface IdentitySigner {
  signWithIdentity(message: Uint8Array): string;
}

export interface NodeGrantsOptions {
  store: GrantStore;
  policy: NodePolicy;
  signer: IdentitySigner;
  logger?: SignerLogger;
  now?: () => number;
  /** How old an agent's authorization may be, by this node's clock, when first seen (default 5 minutes). */
  maxAgentRequestAgeMs?: number;
  /** How far in the future an agent's timestamp may be (clock skew; default 1 minute). */
  maxAgentClockSkewMs?: number;
}

/** What the node makes of a request proposed under a grant. */
export type GrantAssessment =
  /** Inside the scope of a grant this node approved: approve without the operator. */
  | { kind: 'inside'; grantId: string; rule: string; reason: string }
  /** Not under a grant this node approved, or outside its scope: the normal policy decides. */
  | { kind: 'outside'; reason: string }
  /** A lie or a replay: decline. */
  | { kind: 'refused'; code: RefusalCode; reason: string };

export type GrantCommit = { ok: true } | { ok: false; code: RefusalCode; reason: string };

type GrantReply = Outgoing<GrantDecisionFrame> | Outgoing<GrantAwaitingFrame>;

const DEFAULT_MAX_AGE_MS = 5 * 60_000;
const DEFAULT_SKEW_MS = 60_000;

/**
 * The node's side of session-key grants (issue 10): deciding on proposed grants (grant rules, or the
 * operator on `ask`), checking requests under a grant against the node's OWN copy of the grant and its
 * OWN durable counters, counting them just before a share leaves, and revocation (the kill switch). Like
 * the signing service, it must be handed work one item at a time (the node's inbox).
 */
export class NodeGrants {
  private readonly logger: SignerLogger;
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly skewMs: number;

  constructor(private readonly options: NodeGrantsOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgentRequestAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.skewMs = options.maxAgentClockSkewMs ?? DEFAULT_SKEW_MS;
  }

  get store(): GrantStore {
    return this.options.store;
  }

  /** A proposed grant: the node hashes it itself, decides once (stored before the answer), and answers the same on every re-proposal. */
  async handlePropose(f: GrantProposeFrame): Promise<GrantReply> {
    const { grant } = f;
    const ours = grantHash(grant);
    const now = this.now();
    const mismatch = (reason: string): GrantReply => {
      this.logger.warn({ grantId: grant.id, reason }, 'declined a grant that does not hash as proposed');
      return this.decisionFrame(this.sign({ grantId: grant.id, grantHash: f.grantHash, verdict: 'decline', by: 'policy', policyHash: this.options.policy.policyHash, rule: null, reason: clip(reason), decidedAt: now }));
    };
    if (ours !== f.grantHash) return mismatch(`the grant hashes to ${ours} on this node, not to the proposed ${f.grantHash}`);
    const held = this.store.get(grant.id);
    if (held) {
      if (held.grantHash !== ours) return mismatch(`grant ${grant.id} was proposed earlier with other content (hash ${held.grantHash})`);
      return held.decision ? this.decisionFrame(held.decision) : this.awaitingFrame(held);
    }
    const evaluation = await this.evaluate(f, now);
    const base: GrantRecord = { version: 1, grant, grantHash: ours, evaluation, receivedAt: now, decision: null, revocation: null, nonces: [], counted: [] };
    const record =
      evaluation.outcome === 'ask'
        ? base
        : { ...base, decision: this.decide(base, evaluation.outcome === 'allow' ? 'approve' : 'decline', 'policy', evaluation.reason, now) };
    try {
      await this.store.put(record);
    } catch (e) {
      this.logger.error({ grantId: grant.id, err: describeError(e) }, 'cannot record the grant; declining it');
      return this.decisionFrame(this.decide(base, 'decline', 'policy', `the node cannot record the grant: ${describeError(e)}`, now));
    }
    this.logger.info({ grantId: grant.id, outcome: evaluation.outcome, rule: evaluation.rule }, 'decided on a proposed grant');
    return record.decision ? this.decisionFrame(record.decision) : this.awaitingFrame(record);
  }

  /** The operator's approve / reject of a grant the grant rules left to them. */
  async operatorDecide(grantId: string, decision: { verdict: 'approve' } | { verdict: 'decline'; reason: string }): Promise<Omit<GrantDecided, 'sent'> & { frame: Outgoing<GrantDecisionFrame> }> {
    const held = this.mustHold(grantId);
    const now = this.now();
    if (held.revocation) throw new ApprovalsRefusal('GRANT_REVOKED', `grant ${grantId} was revoked at ${iso(held.revocation.revokedAt)}: there is nothing to approve`);
    if (held.decision) {
      const verdict = held.decision.verdict === 'approve' ? 'approved' : 'rejected';
      throw new ApprovalsRefusal('APPROVAL_DECIDED', `grant ${grantId} was already ${verdict} at ${iso(held.decision.decidedAt)}`);
    }
    if (held.grant.validUntil <= now) throw new ApprovalsRefusal('APPROVAL_EXPIRED', `grant ${grantId} expired at ${iso(held.grant.validUntil)}: it can no longer be approved`);
    const reason = decision.verdict === 'approve' ? 'approved by the operator' : decision.reason;
    const signed = this.decide(held, decision.verdict, 'operator', reason, now);
    const record = await this.write({ ...held, decision: signed });
    this.logger.info({ grantId, verdict: decision.verdict, grantHash: held.grantHash }, `the operator ${decision.verdict === 'approve' ? 'approved' : 'rejected'} a grant`);
    return { approval: grantItem(record, now), decision: signed, frame: this.decisionFrame(signed) };
  }

  /**
   * The operator's kill switch: the grant is revoked on this node at once and durably (nothing under it
   * is signed from now on, whatever the coordinator does), and a signed `grant.revoke` is returned for
   * the coordinator. An undecided grant is also declined.
   */
  async revokeByOperator(grantId: string, reason: string): Promise<Omit<GrantRevoked, 'sent'> & { frame: Outgoing<GrantRevokeFrame> }> {
    const held = this.mustHold(grantId);
    if (held.revocation) throw new ApprovalsRefusal('GRANT_REVOKED', `grant ${grantId} was already revoked at ${iso(held.revocation.revokedAt)} by the ${held.revocation.by}`);
    const now = this.now();
    const text = clip(reason);
    const signature = this.options.signer.signWithIdentity(grantRevocationTranscript({ grantId: held.grant.id, grantHash: held.grantHash, reason: text, revokedAt: now }));
    const revocation = { by: 'operator' as const, reason: text, revokedAt: now, signature, reported: false };
    const decision = held.decision ?? this.decide(held, 'decline', 'operator', `revoked by the operator: ${text}`, now);
    const record = await this.write({ ...held, decision, revocation });
    this.logger.warn({ grantId, reason: text }, 'the operator revoked a grant: nothing under it is signed any more');
    return { grant: grantItem(record, now), revocation, frame: revokeFrame(record)! };
  }

  /** The coordinator revoked the grant for everyone: revoked here too (unless already). */
  async revokedByCoordinator(f: GrantRevokedFrame): Promise<boolean> {
    const held = this.store.get(f.grantId);
    if (!held) {
      this.logger.info({ grantId: f.grantId }, 'the coordinator revoked a grant this node does not hold');
      return false;
    }
    if (held.revocation) return false;
    await this.write({ ...held, revocation: { by: 'coordinator', reason: f.reason, revokedAt: this.now(), signature: null, reported: true } });
    this.logger.warn({ grantId: f.grantId, reason: f.reason }, 'the coordinator revoked a grant: nothing under it is signed any more');
    return true;
  }

  /** The coordinator acknowledged this node's `grant.revoke`: it is not sent again. */
  async revocationAcked(grantId: string): Promise<void> {
    const held = this.store.get(grantId);
    if (held?.revocation && !held.revocation.reported) await this.write({ ...held, revocation: { ...held.revocation, reported: true } });
  }

  /** Why the grant is revoked on this node, or null when it is not. */
  revocationOf(grantId: string): string | null {
    const v = this.store.get(grantId)?.revocation;
    return v ? clip(`grant ${grantId} was revoked on this node at ${iso(v.revokedAt)} by the ${v.by}: ${v.reason}`) : null;
  }

  /** The operator revocations the coordinator has not acknowledged yet (sent at every authentication). */
  unreportedRevocations(): Outgoing<GrantRevokeFrame>[] {
    return this.store.all().flatMap((r) => (r.revocation && !r.revocation.reported ? [revokeFrame(r)!] : []));
  }

  /**
   * A request proposed under a grant. The node's OWN copy decides (the proposal's must hash the same);
   * only a grant this node approved and has not revoked can approve a request; the agent's signature
   * must verify over this node's intent hash, with a nonce unused under the grant on this node and a
   * fresh timestamp (the nonce is recorded durably); then the scope is checked against this node's counters.
   */
  async assessRequest(requestId: string, g: RequestGrant, intent: Intent, intentHash: string, now: number): Promise<GrantAssessment> {
    const refused = (code: RefusalCode, reason: string): GrantAssessment => ({ kind: 'refused', code, reason: clip(reason) });
    const held = this.store.get(g.grant.id);
    if (!held) return { kind: 'outside', reason: `this node holds no grant ${g.grant.id}` };
    if (held.grantHash !== g.grantHash || grantHash(g.grant) !== held.grantHash) {
      return refused('GRANT_MISMATCH', `the proposal's grant ${g.grant.id} is not the one this node holds (hash ${held.grantHash})`);
    }
    if (held.revocation) return refused('GRANT_REVOKED', `grant ${g.grant.id} was revoked on this node at ${iso(held.revocation.revokedAt)}: ${held.revocation.reason}`);
    if (held.decision?.verdict !== 'approve') return { kind: 'outside', reason: `this node did not approve grant ${g.grant.id}` };
    const auth = g.authorization;
    if (auth.grantId !== held.grant.id) return refused('AGENT_SIGNATURE_INVALID', `the agent's authorization is for grant ${auth.grantId}, not ${held.grant.id}`);
    if (auth.intentHash !== intentHash) return refused('AGENT_SIGNATURE_INVALID', `the agent authorized intent ${auth.intentHash}, not this request's ${intentHash}`);
    let valid = false;
    try {
      valid = await verifyAgentAuthorization(held.grant, auth);
    } catch (e) {
      this.logger.warn({ requestId, err: describeError(e) }, 'the agent authorization could not be verified');
    }
    if (!valid) return refused('AGENT_SIGNATURE_INVALID', "the agent's signature does not verify under the grantee's key");
    const seen = held.nonces.find((n) => n.nonce === auth.nonce);
    if (seen && seen.requestId !== requestId) return refused('AGENT_REQUEST_REPLAYED', `the agent's nonce was used for request ${seen.requestId}`);
    let record = held;
    if (!seen) {
      // A re-proposal of a request whose nonce is recorded is the same request, however late.
      if (now - auth.timestamp > this.maxAgeMs || auth.timestamp - now > this.skewMs) {
        return refused('AGENT_REQUEST_STALE', `the agent signed at ${iso(auth.timestamp)}; this node accepts ${this.maxAgeMs} ms old at most (now ${iso(now)})`);
      }
      try {
        record = await this.write({ ...held, nonces: [...held.nonces, { nonce: auth.nonce, requestId, at: now }] });
      } catch (e) {
        return refused('SIGNING_FAILED', `cannot record the agent's nonce: ${describeError(e)}`);
      }
    }
    const verdict = checkScope(record.grant, intent, record.counted.filter((c) => c.requestId !== requestId), now);
    if (!verdict.ok) return { kind: 'outside', reason: clip(`outside grant ${held.grant.id}: ${verdict.code}: ${verdict.reason}`) };
    return { kind: 'inside', grantId: held.grant.id, rule: `grant:${held.grant.id}`, reason: clip(`inside the scope of grant ${held.grant.id} (${held.grant.label})`) };
  }

  /**
   * Just before the share of a request approved under the grant leaves: refused if the grant was
   * revoked since, or if the request no longer fits (another request used the budget since); else
   * counted durably, once per request.
   */
  async commitRequest(grantId: string, requestId: string, intent: Intent, now: number): Promise<GrantCommit> {
    const held = this.store.get(grantId);
    if (!held) return { ok: false, code: 'POLICY_DENIED', reason: `this node no longer holds grant ${grantId}` };
    if (held.revocation) return { ok: false, code: 'GRANT_REVOKED', reason: clip(`grant ${grantId} was revoked on this node at ${iso(held.revocation.revokedAt)}: ${held.revocation.reason}`) };
    if (held.counted.some((c) => c.requestId === requestId)) return { ok: true };
    const verdict = checkScope(held.grant, intent, held.counted, now);
    if (!verdict.ok) return { ok: false, code: 'POLICY_DENIED', reason: clip(`the request is no longer inside grant ${grantId}: ${verdict.code}: ${verdict.reason}`) };
    try {
      await this.write({ ...held, counted: [...held.counted, { requestId, at: now, intent }] });
    } catch (e) {
      return { ok: false, code: 'POLICY_DENIED', reason: clip(`cannot count the request under grant ${grantId}: ${describeError(e)}`) };
    }
    return { ok: true };
  }

  private mustHold(grantId: string): GrantRecord {
    const held = this.store.get(grantId);
    if (!held) throw new ApprovalsRefusal('GRANT_NOT_FOUND', `no grant ${grantId} on this node (see \`signer grants list\`)`);
    return held;
  }

  private async write(record: GrantRecord): Promise<GrantRecord> {
    try {
      return await this.store.put(record);
    } catch (e) {
      throw new ApprovalsRefusal('APPROVAL_FAILED', `cannot record the grant: ${describeError(e)}`);
    }
  }

  private async evaluate(f: GrantProposeFrame, now: number): Promise<PolicyEvaluation> {
    try {
      return await this.options.policy.evaluateGrant({ grant: f.grant, grantHash: f.grantHash }, now);
    } catch (e) {
      this.logger.error({ grantId: f.grant.id, err: describeError(e) }, 'the policy failed to evaluate a grant; declining');
      return { outcome: 'deny', rule: null, reason: clip(`the policy could not evaluate the grant: ${describeError(e)}`), policyHash: this.options.policy.policyHash };
    }
  }

  private decide(r: GrantRecord, verdict: 'approve' | 'decline', by: 'policy' | 'operator', reason: string, now: number): SignedGrantDecision {
    return this.sign({ grantId: r.grant.id, grantHash: r.grantHash, verdict, by, policyHash: r.evaluation.policyHash, rule: r.evaluation.rule, reason: clip(reason), decidedAt: now });
  }

  private sign(d: UnsignedGrantDecision): SignedGrantDecision {
    return { ...d, signature: this.options.signer.signWithIdentity(grantDecisionTranscript(d)) };
  }

  private decisionFrame(decision: SignedGrantDecision): Outgoing<GrantDecisionFrame> {
    return { type: 'grant.decision', grantId: decision.grantId, decision };
  }

  private awaitingFrame(r: GrantRecord): Outgoing<GrantAwaitingFrame> {
    const { rule, reason, policyHash } = r.evaluation;
    return { type: 'grant.awaiting', grantId: r.grant.id, grantHash: r.grantHash, policyHash, rule, reason };
  }
}

function revokeFrame(r: GrantRecord): Outgoing<GrantRevokeFrame> | undefined {
  const v = r.revocation;
  if (!v?.signature) return undefined;
  return { type: 'grant.revoke', grantId: r.grant.id, reason: v.reason, revokedAt: v.revokedAt, signature: v.signature };
}

const iso = (ms: number): string => new Date(ms).toISOString();
