import type { AttemptAbortFrame, AttemptPackageFrame, NodeFrame, NonceCommitment, Outgoing, RefusalCode, RequestClosedFrame, RequestProposeFrame } from '#protocol';
import type { SignerLogger } from '../logger.js';
import type { OperatorOutcome } from './operator-decisions.js';
import type { SigningService } from './signing-service.js';

/** What the coordinator proposed, as the node saw it before deciding. */
export type ProposalEvent = Omit<RequestProposeFrame, 'v' | 'type'>;

/** The signing events a signer node emits. */
export interface SigningEvents {
  proposal: [ProposalEvent];
  committed: [{ requestId: string; commitment: NonceCommitment }];
  declined: [{ requestId: string; code: RefusalCode; reason: string }];
  /** The policy answered `ask`: the proposal waits for the operator (`signer approvals`). */
  awaiting: [{ requestId: string; intentHash: string; rule: string | null; reason: string }];
  /** The operator approved or rejected a queued proposal. */
  'operator-decision': [{ requestId: string; verdict: 'approve' | 'decline'; sent: boolean }];
  signed: [{ requestId: string; attemptId: string; replayed: boolean }];
  refused: [{ requestId: string; attemptId: string; code: RefusalCode; reason: string }];
  closed: [{ requestId: string; status: RequestClosedFrame['status'] }];
}

export type SigningFrame = RequestProposeFrame | AttemptPackageFrame | AttemptAbortFrame | RequestClosedFrame;

/**
 * The node's signing frames: each goes to the SigningService (which decides, see signing-service.ts),
 * its answer back on the connection it came from, and what happened out as an event and a log line.
 */
export class NodeSigning {
  constructor(
    private readonly service: SigningService,
    private readonly logger: SignerLogger,
    private readonly emit: <K extends keyof SigningEvents>(event: K, ...args: SigningEvents[K]) => void,
  ) {}

  async handle(frame: SigningFrame, reply: (frame: Outgoing<NodeFrame>) => void): Promise<void> {
    switch (frame.type) {
      case 'request.propose': {
        const { v: _v, type: _type, ...proposal } = frame;
        this.emit('proposal', proposal);
        const outcome = await this.service.handlePropose(frame);
        reply(outcome.frame);
        const keyId = frame.intent.keyId;
        if (outcome.kind === 'committed') {
          this.logger.info({ requestId: frame.requestId, keyId, by: outcome.frame.decision.by }, 'committed to a request');
          this.emit('committed', { requestId: frame.requestId, commitment: outcome.frame.commitment });
        } else if (outcome.kind === 'awaiting') {
          const { intentHash, rule, reason } = outcome.frame;
          this.logger.warn({ requestId: frame.requestId, keyId, rule, reason }, 'a request awaits the operator (signer approvals list)');
          this.emit('awaiting', { requestId: frame.requestId, intentHash, rule, reason });
        } else {
          const { code, reason } = outcome.frame;
          this.logger.info({ requestId: frame.requestId, code, reason }, 'declined a request');
          this.emit('declined', { requestId: frame.requestId, code, reason });
        }
        return;
      }
      case 'attempt.package': {
        const outcome = await this.service.handlePackage(frame);
        reply(outcome.frame);
        const ids = { requestId: frame.requestId, attemptId: frame.attemptId };
        if (outcome.kind === 'signed') {
          this.logger.info({ ...ids, replayed: outcome.replayed }, outcome.replayed ? 'sent the cached share again' : 'signed');
          this.emit('signed', { ...ids, replayed: outcome.replayed });
        } else {
          this.emit('refused', { ...ids, code: outcome.frame.code, reason: outcome.frame.reason });
        }
        return;
      }
      case 'attempt.abort':
        this.logger.debug({ requestId: frame.requestId, attemptId: frame.attemptId, reason: frame.reason }, 'attempt aborted');
        await this.service.handleAbort(frame);
        return;
      case 'request.closed': {
        const { discarded, approvalRemoved } = await this.service.handleClosed(frame);
        this.logger.info({ requestId: frame.requestId, status: frame.status, discardedNonces: discarded, approvalRemoved }, 'request closed');
        this.emit('closed', { requestId: frame.requestId, status: frame.status });
        return;
      }
    }
  }

  /**
   * The operator's decision on a queued proposal: recorded and signed by the service, then sent on
   * the current connection if there is one (`reply`), otherwise kept for the next proposal.
   */
  async operatorDecision(
    requestId: string,
    decision: { verdict: 'approve' } | { verdict: 'decline'; reason: string },
    reply: ((frame: Outgoing<NodeFrame>) => void) | undefined,
  ): Promise<OperatorOutcome & { sent: boolean }> {
    const outcome =
      decision.verdict === 'approve'
        ? await this.service.operator.approve(requestId, reply !== undefined)
        : await this.service.operator.reject(requestId, decision.reason, reply !== undefined);
    const sent = outcome.frame !== undefined && reply !== undefined;
    if (outcome.frame && reply) reply(outcome.frame);
    if (outcome.frame?.type === 'request.commit') this.emit('committed', { requestId, commitment: outcome.frame.commitment });
    this.emit('operator-decision', { requestId, verdict: decision.verdict, sent });
    return { ...outcome, sent };
  }
}
