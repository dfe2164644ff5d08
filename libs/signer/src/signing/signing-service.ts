import { canonicalJson, commit, sha256Hex, type CommitmentHex } from '#crypto';
import type {
  AttemptAbortFrame,
  AttemptPackageFrame,
  AttemptRefuseFrame,
  AttemptShareFrame,
  Outgoing,
  RefusalCode,
  RequestClosedFrame,
  RequestProposeFrame,
  SignedDecision,
  UnsignedDecision,
} from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import { describeError, silentLogger, type SignerLogger } from '../logger.js';
import type { PolicyEvaluation, PolicySubject } from '../policy/policy-types.js';
import { deriveIntent } from './intent-checks.js';
import { OperatorDecisions } from './operator-decisions.js';
import { signPackage } from './package-signing.js';
import { MAX_REASON, awaitingFrame, intentHashOf, refusal } from './signing-frames.js';
import {
  underGrant,
  type AcceptedProposal,
  type PackageAnswer,
  type PackageOutcome,
  type ProposeOutcome,
  type SigningServiceOptions,
} from './signing-types.js';

export type {
  AcceptedProposal,
  DecisionSigner,
  PackageOutcome,
  ProposeOutcome,
  ShareSource,
  SigningServiceOptions,
} from './signing-types.js';

interface AnsweredAttempt {
  requestId: string;
  /** Digest of the whole package, to tell a duplicate from a different package under the same id. */
  packageDigest: string;
  response: Outgoing<AttemptShareFrame> | Outgoing<AttemptRefuseFrame>;
  /** This node's commitment as the package named it, if it did. */
  ownCommitment?: CommitmentHex;
}

export { MAX_REASON };
const DEFAULT_RETAIN_MS = 10 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 4096;

/**
 * The signer's decisions, independent of the transport: whether to commit to a proposal and whether
 * to sign a package (RFC 9591 §5.2 and the signer rules in the FROST guide). Callers must hand it
 * frames (and operator decisions) one at a time, in arrival order.
 *
 * On a proposal the node recomputes the intent's hash and digest itself (intent-checks.ts), then asks
 * its policy: `allow` commits with a signed approval, `deny` declines with a signed decline, `ask`
 * queues the proposal for the operator (no nonce) and answers `request.awaiting`. On a package it
 * answers a duplicate from memory; a new one it signs (package-signing.ts) only over the digest of the
 * intent it approved (package-checks.ts), after the policy counted the request against its velocity limits.
 */
export class SigningService {
  private readonly proposals = new Map<string, AcceptedProposal>();
  /** Insertion order is age order. */
  private readonly attempts = new Map<string, AnsweredAttempt>();
  private readonly shareCache = new Map<string, KeyShare>();
  private readonly logger: SignerLogger;
  readonly now: () => number;
  private readonly retainMs: number;
  private readonly maxAttempts: number;
  /** The operator's approve / reject on queued proposals. */
  readonly operator: OperatorDecisions;

  constructor(private readonly options: SigningServiceOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
    this.maxAttempts = options.maxRememberedAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.operator = new OperatorDecisions({
      approvals: options.approvals,
      decisions: options.decisions,
      logger: this.logger,
      now: this.now,
      shareFor: (keyId) => this.shareFor(keyId),
      accept: (proposal) => this.proposals.set(proposal.requestId, proposal),
      freshCommitment: (requestId, share) => this.freshCommitment(requestId, share),
    });
  }

  async handlePropose(p: RequestProposeFrame): Promise<ProposeOutcome> {
    await this.forgetExpired();
    const decline = (code: RefusalCode, reason: string, decision?: SignedDecision): ProposeOutcome => ({
      kind: 'declined',
      frame: { type: 'request.decline', requestId: p.requestId, code, reason: reason.slice(0, MAX_REASON), ...(decision ? { decision } : {}) },
    });
    const checked = deriveIntent(p);
    if (!checked.ok) return decline(checked.code, checked.reason);
    const { derived } = checked;
    const keyId = derived.intent.keyId;
    const share = await this.shareFor(keyId);
    if (!share) return decline('KEY_NOT_HELD', `this node holds no share of key ${keyId}`);
    const pkg = share.publicPackage;
    if (share.suite !== p.suite || pkg.threshold !== p.threshold) {
      return decline(
        'SUITE_MISMATCH',
        `key ${keyId} is ${share.suite} ${pkg.threshold}-of-${pkg.maxSigners} on this node; ` +
          `the proposal says ${p.suite} with threshold ${p.threshold}`,
      );
    }
    const now = this.now();
    if (derived.intent.deadline <= now) return decline('DEADLINE_PASSED', `the intent's deadline ${derived.intent.deadline} has passed`);

    // A request is an immutable intent: what was decided once cannot be swapped under the same id.
    const earlier = this.proposals.get(p.requestId);
    const queued = this.options.approvals.get(p.requestId);
    const seen = earlier ?? queued;
    if (seen && (seen.suite !== p.suite || seen.threshold !== p.threshold || intentHashOf(seen) !== derived.intentHash)) {
      return decline('INTENT_MISMATCH', `request ${p.requestId} was proposed earlier with a different intent`);
    }
    const commitWith = async (decision: SignedDecision, approvedBy: AcceptedProposal['approvedBy']): Promise<ProposeOutcome> => {
      let commitment: CommitmentHex;
      try {
        commitment = await this.freshCommitment(p.requestId, share);
      } catch (e) {
        this.logger.error({ requestId: p.requestId, err: describeError(e) }, 'cannot record a new nonce; declining');
        return decline('SIGNING_FAILED', `cannot record a new nonce: ${describeError(e)}`);
      }
      this.proposals.set(p.requestId, { requestId: p.requestId, suite: p.suite, threshold: p.threshold, derived, decision, approvedBy });
      return { kind: 'committed', frame: { type: 'request.commit', requestId: p.requestId, commitment, decision } };
    };
    // Proposed again (a reconnect, a new round): the same decision, a fresh commitment; unless its grant was revoked since.
    if (earlier) {
      const revoked = underGrant(earlier.approvedBy) ? this.options.grants?.revocationOf(earlier.approvedBy.grantId) : null;
      if (revoked) return decline('GRANT_REVOKED', revoked);
      return commitWith(earlier.decision, earlier.approvedBy);
    }
    if (queued) {
      if (!queued.decision) return { kind: 'awaiting', frame: awaitingFrame(p.requestId, derived.intentHash, queued.evaluation) };
      if (queued.decision.verdict === 'approve') return commitWith(queued.decision, 'operator');
      return decline('OPERATOR_REJECTED', queued.decision.reason, queued.decision);
    }

    // Under a grant this node approved, inside its scope: approved without the operator (grants/node-grants.ts).
    if (p.grant && this.options.grants) {
      const assessed = await this.options.grants.assessRequest(p.requestId, p.grant, derived.intent, derived.intentHash, now);
      if (assessed.kind === 'refused') return decline(assessed.code, assessed.reason);
      if (assessed.kind === 'inside') {
        const decision = this.options.decisions.signDecision({
          requestId: p.requestId,
          intentHash: derived.intentHash,
          verdict: 'approve',
          by: 'policy',
          policyHash: this.options.policy.policyHash,
          rule: assessed.rule,
          reason: assessed.reason,
          decidedAt: now,
        });
        return commitWith(decision, { grantId: assessed.grantId });
      }
      this.logger.info({ requestId: p.requestId, grantId: p.grant.grant.id, reason: assessed.reason }, 'not approved under the grant; the policy decides');
    }
    const subject: PolicySubject = { requestId: p.requestId, intent: derived.intent, intentHash: derived.intentHash };
    const evaluation = await this.evaluate(subject, now);
    const decide = (verdict: UnsignedDecision['verdict']): SignedDecision =>
      this.options.decisions.signDecision({
        requestId: p.requestId,
        intentHash: derived.intentHash,
        verdict,
        by: 'policy',
        policyHash: evaluation.policyHash,
        rule: evaluation.rule,
        reason: evaluation.reason.slice(0, MAX_REASON),
        decidedAt: now,
      });
    switch (evaluation.outcome) {
      case 'allow':
        return commitWith(decide('approve'), evaluation);
      case 'deny':
        return decline('POLICY_DENIED', evaluation.reason, decide('decline'));
      case 'ask': {
        const asked = { outcome: 'ask' as const, rule: evaluation.rule, reason: evaluation.reason.slice(0, MAX_REASON), policyHash: evaluation.policyHash };
        try {
          await this.options.approvals.add({
            version: 1,
            requestId: p.requestId,
            suite: p.suite,
            threshold: p.threshold,
            intent: derived.intent,
            intentHash: derived.intentHash,
            digest: derived.digest,
            evaluation: asked,
            receivedAt: now,
            decision: null,
          });
        } catch (e) {
          this.logger.error({ requestId: p.requestId, err: describeError(e) }, 'cannot record the proposal for the operator; declining');
          return decline('SIGNING_FAILED', `cannot record the proposal for the operator: ${describeError(e)}`);
        }
        return { kind: 'awaiting', frame: awaitingFrame(p.requestId, derived.intentHash, asked) };
      }
    }
  }

  /** The policy's evaluation; one that throws is a deny (fail closed). */
  private async evaluate(subject: PolicySubject, now: number): Promise<PolicyEvaluation> {
    try {
      return await this.options.policy.evaluate(subject, now);
    } catch (e) {
      this.logger.error({ requestId: subject.requestId, err: describeError(e) }, 'the policy failed to evaluate; denying');
      return { outcome: 'deny', rule: null, reason: `the policy could not evaluate the intent: ${describeError(e)}`, policyHash: this.options.policy.policyHash };
    }
  }

  async handlePackage(pkg: AttemptPackageFrame): Promise<PackageOutcome> {
    const digest = sha256Hex(canonicalJson(pkg));
    const answered = this.attempts.get(pkg.attemptId);
    if (answered && answered.requestId === pkg.requestId && answered.packageDigest === digest) {
      // The same package again (a resend after a reconnect): the same answer, never a second share.
      return answered.response.type === 'attempt.share'
        ? { kind: 'signed', frame: answered.response, replayed: true }
        : { kind: 'refused', frame: answered.response, replayed: true };
    }
    if (answered?.response.type === 'attempt.share') {
      return {
        kind: 'refused',
        replayed: false,
        frame: refusal(pkg, 'NONCE_CONSUMED', `attempt ${pkg.attemptId} was already signed, for a different package`),
      };
    }
    const { outcome, ownCommitment } = await this.evaluatePackage(pkg);
    this.remember(pkg.attemptId, { requestId: pkg.requestId, packageDigest: digest, response: outcome.frame, ownCommitment });
    return outcome;
  }

  /** The attempt is over without this node's share: burn the nonce it named, if still live. */
  async handleAbort(a: AttemptAbortFrame): Promise<void> {
    const answered = this.attempts.get(a.attemptId);
    if (answered?.requestId === a.requestId && answered.ownCommitment) {
      await this.options.nonces.discard(answered.ownCommitment, 'attempt aborted');
    }
  }

  /**
   * The request is over (completed, failed, expired, or cancelled by its proposer): discard its nonces,
   * remove its awaiting approval, forget it. Returns how many nonces were discarded.
   */
  async handleClosed(c: RequestClosedFrame): Promise<{ discarded: number; approvalRemoved: boolean }> {
    const approvalRemoved = await this.options.approvals.close(c.requestId, c.status);
    return { discarded: await this.forgetRequest(c.requestId, `request ${c.status}`), approvalRemoved };
  }

  /** A new package, signed or refused by package-signing.ts with this service's memory of the request. */
  private evaluatePackage(pkg: AttemptPackageFrame): Promise<PackageAnswer> {
    return signPackage(pkg, {
      nonces: this.options.nonces,
      policy: this.options.policy,
      ...(this.options.grants ? { grants: this.options.grants } : {}),
      logger: this.logger,
      now: this.now,
      proposal: this.proposals.get(pkg.requestId),
      shareFor: (keyId) => this.shareFor(keyId),
      freshCommitment: (requestId, share) => this.freshCommitment(requestId, share),
    });
  }

  private async freshCommitment(requestId: string, share: KeyShare): Promise<CommitmentHex> {
    const { nonces, commitment } = commit(share.suite, share.identifier, share.signingShare);
    await this.options.nonces.issue(requestId, commitment, nonces);
    return commitment;
  }

  private async shareFor(keyId: string): Promise<KeyShare | null> {
    const cached = this.shareCache.get(keyId);
    if (cached) return cached;
    try {
      // Read on a miss: a dealer may have written a new share since the node started.
      const share = await this.options.shares.findShare(keyId);
      if (share) this.shareCache.set(keyId, share);
      return share;
    } catch (e) {
      this.logger.error({ keyId, err: describeError(e) }, 'the share of this key is unreadable; treating it as not held');
      return null;
    }
  }

  private remember(attemptId: string, answered: AnsweredAttempt): void {
    this.attempts.delete(attemptId);
    this.attempts.set(attemptId, answered);
    for (const oldest of this.attempts.keys()) {
      if (this.attempts.size <= this.maxAttempts) break;
      this.attempts.delete(oldest);
    }
  }

  private async forgetRequest(requestId: string, reason: string): Promise<number> {
    this.proposals.delete(requestId);
    for (const [attemptId, a] of this.attempts) if (a.requestId === requestId) this.attempts.delete(attemptId);
    return this.options.nonces.discardRequest(requestId, reason);
  }

  private async forgetExpired(): Promise<void> {
    const cutoff = this.now() - this.retainMs;
    for (const p of [...this.proposals.values()]) {
      if (p.derived.intent.deadline < cutoff) await this.forgetRequest(p.requestId, 'request expired');
    }
    for (const id of await this.options.approvals.pruneBefore(cutoff)) await this.forgetRequest(id, 'request expired');
  }
}
