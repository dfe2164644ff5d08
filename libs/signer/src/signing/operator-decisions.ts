import type { CommitmentHex } from '#crypto';
import type { Outgoing, RequestCommitFrame, RequestDeclineFrame, SignedDecision } from '#protocol';
import { approvalItem, type ApprovalQueue } from '../approvals/approval-queue.js';
import { ApprovalsRefusal, type ApprovalItem } from '../approvals/approvals-protocol.js';
import type { KeyShare } from '../keystore/keystore-records.js';
import { describeError, type SignerLogger } from '../logger.js';
import type { AcceptedProposal, DecisionSigner } from './signing-service.js';

export interface OperatorDecisionsContext {
  approvals: ApprovalQueue;
  decisions: DecisionSigner;
  logger: SignerLogger;
  now: () => number;
  shareFor(keyId: string): Promise<KeyShare | null>;
  /** Registers an approved proposal with the signing service, so that its packages can be signed. */
  accept(proposal: AcceptedProposal): void;
  freshCommitment(requestId: string, share: KeyShare): Promise<CommitmentHex>;
}

export interface OperatorOutcome {
  approval: ApprovalItem;
  decision: SignedDecision;
  /** What to send the coordinator now, when connected; none when the node could not commit a nonce. */
  frame?: Outgoing<RequestCommitFrame> | Outgoing<RequestDeclineFrame>;
}

const MAX_REASON = 500;

/**
 * The operator's approve and reject on proposals the policy answered `ask`. The signed decision is
 * stored before anything is sent, so that it survives a restart and answers the coordinator's next
 * proposal of the request. An approval commits a fresh nonce only when the node is connected (the
 * commitment goes out at once); otherwise the coordinator's next proposal gets one.
 */
export class OperatorDecisions {
  constructor(private readonly ctx: OperatorDecisionsContext) {}

  async approve(requestId: string, connected: boolean): Promise<OperatorOutcome> {
    const entry = this.waiting(requestId);
    const share = await this.ctx.shareFor(entry.intent.keyId);
    if (!share) throw new ApprovalsRefusal('APPROVAL_FAILED', `this node no longer holds a share of key ${entry.intent.keyId}`);
    const decision = await this.record(requestId, 'approve', 'approved by the operator');
    this.ctx.accept({
      requestId,
      suite: entry.suite,
      threshold: entry.threshold,
      derived: { intent: entry.intent, intentHash: entry.intentHash, digest: entry.digest },
      decision,
      approvedBy: 'operator',
    });
    let frame: Outgoing<RequestCommitFrame> | undefined;
    if (connected) {
      try {
        frame = { type: 'request.commit', requestId, commitment: await this.ctx.freshCommitment(requestId, share), decision };
      } catch (e) {
        this.ctx.logger.error({ requestId, err: describeError(e) }, 'cannot record a nonce for the approved request; the next proposal gets one');
      }
    }
    return { approval: this.item(requestId), decision, ...(frame ? { frame } : {}) };
  }

  async reject(requestId: string, reason: string, connected: boolean): Promise<OperatorOutcome> {
    this.waiting(requestId);
    const decision = await this.record(requestId, 'decline', reason);
    const frame: Outgoing<RequestDeclineFrame> = { type: 'request.decline', requestId, code: 'OPERATOR_REJECTED', reason: decision.reason, decision };
    return { approval: this.item(requestId), decision, ...(connected ? { frame } : {}) };
  }

  /** The entry, if the operator may still decide on it; otherwise the refusal saying why not. */
  private waiting(requestId: string) {
    const entry = this.ctx.approvals.get(requestId);
    if (!entry) {
      const closed = this.ctx.approvals.closedAs(requestId);
      if (closed) {
        const how = closed === 'cancelled' ? 'cancelled by its proposer' : closed;
        throw new ApprovalsRefusal('APPROVAL_CLOSED', `request ${requestId} was ${how} (the coordinator closed it): there is nothing to approve`);
      }
      throw new ApprovalsRefusal('APPROVAL_NOT_FOUND', `no approval ${requestId} is waiting on this node (see \`signer approvals list\`)`);
    }
    if (entry.decision) {
      const verdict = entry.decision.verdict === 'approve' ? 'approved' : 'rejected';
      throw new ApprovalsRefusal('APPROVAL_DECIDED', `request ${requestId} was already ${verdict} at ${new Date(entry.decision.decidedAt).toISOString()}`);
    }
    if (entry.intent.deadline <= this.ctx.now()) {
      throw new ApprovalsRefusal(
        'APPROVAL_EXPIRED',
        `request ${requestId} expired at ${new Date(entry.intent.deadline).toISOString()}: it can no longer be approved or rejected`,
      );
    }
    return entry;
  }

  private async record(requestId: string, verdict: SignedDecision['verdict'], reason: string): Promise<SignedDecision> {
    const entry = this.ctx.approvals.get(requestId)!;
    let decision: SignedDecision;
    try {
      decision = this.ctx.decisions.signDecision({
        requestId,
        intentHash: entry.intentHash,
        verdict,
        by: 'operator',
        policyHash: entry.evaluation.policyHash,
        rule: entry.evaluation.rule,
        reason: reason.slice(0, MAX_REASON),
        decidedAt: this.ctx.now(),
      });
      await this.ctx.approvals.decide(requestId, decision);
    } catch (e) {
      throw new ApprovalsRefusal('APPROVAL_FAILED', `cannot record the decision: ${describeError(e)}`);
    }
    this.ctx.logger.info({ requestId, verdict, intentHash: entry.intentHash }, `the operator ${verdict === 'approve' ? 'approved' : 'rejected'} a request`);
    return decision;
  }

  private item(requestId: string): ApprovalItem {
    return approvalItem(this.ctx.approvals.get(requestId)!, this.ctx.now());
  }
}
