import type { AckFrame, ErrorFrame, GrantProposeFrame, GrantRevokedFrame, NodeFrame, Outgoing } from '#protocol';
import type { OperatorVerdict } from '../approvals/approvals-handler.js';
import type { SignerLogger } from '../logger.js';
import type { GrantDecided, GrantRevoked } from './grant-protocol.js';
import type { NodeGrants } from './node-grants.js';

/** The grant events a signer node emits. */
export interface GrantEvents {
  /** A grant was decided (by the grant rules or the operator), or left to the operator (`awaiting`). */
  'grant-decision': [{ grantId: string; verdict: 'approve' | 'decline' | 'awaiting'; by: 'policy' | 'operator' | null }];
  /** A grant was revoked on this node: by its operator, or by the coordinator. */
  'grant-revoked': [{ grantId: string; by: 'operator' | 'coordinator'; sent: boolean }];
}

type Reply = (frame: Outgoing<NodeFrame>) => void;

/**
 * The node's grant frames and the operator's grant actions, between the connection and NodeGrants
 * (which decides): answers go back on the connection, revocations are sent now or at the next
 * authentication (until the coordinator acks them).
 */
export class GrantFrames {
  constructor(
    private readonly grants: NodeGrants,
    private readonly logger: SignerLogger,
    private readonly emit: <K extends keyof GrantEvents>(event: K, ...args: GrantEvents[K]) => void,
  ) {}

  async handle(frame: GrantProposeFrame | GrantRevokedFrame, reply: Reply): Promise<void> {
    if (frame.type === 'grant.revoked') {
      if (await this.grants.revokedByCoordinator(frame)) this.emit('grant-revoked', { grantId: frame.grantId, by: 'coordinator', sent: false });
      return;
    }
    const answer = await this.grants.handlePropose(frame);
    reply(answer);
    if (answer.type === 'grant.decision') {
      const d = answer.decision;
      this.emit('grant-decision', { grantId: frame.grant.id, verdict: d.verdict, by: d.by });
    } else {
      this.logger.warn({ grantId: frame.grant.id, rule: answer.rule, reason: answer.reason }, 'a grant awaits the operator (signer approvals list)');
      this.emit('grant-decision', { grantId: frame.grant.id, verdict: 'awaiting', by: null });
    }
  }

  /** Sends the operator revocations the coordinator has not acknowledged (they may predate this connection). */
  onAuthenticated(reply: Reply): void {
    for (const frame of this.grants.unreportedRevocations()) reply(frame);
  }

  async onAck(frame: AckFrame): Promise<void> {
    if (frame.of === 'grant.revoke' && frame.grantId) await this.grants.revocationAcked(frame.grantId);
  }

  /**
   * The coordinator refused the node's `grant.revoke` for good (already revoked there, an unknown grant):
   * sending it again would change nothing. A transient failure leaves it to be sent at the next connection.
   */
  async onError(frame: ErrorFrame): Promise<void> {
    if (frame.inReplyTo !== 'grant.revoke' || !frame.grantId) return;
    if (frame.code === 'INTERNAL' || frame.code === 'DATABASE_UNAVAILABLE') return;
    this.logger.warn({ grantId: frame.grantId, code: frame.code, message: frame.message }, 'the coordinator refused the revocation; it is kept on this node');
    await this.grants.revocationAcked(frame.grantId);
  }

  async operatorDecision(grantId: string, decision: OperatorVerdict, reply: Reply | undefined): Promise<GrantDecided> {
    const { frame, ...outcome } = await this.grants.operatorDecide(grantId, decision);
    if (reply) reply(frame);
    this.emit('grant-decision', { grantId, verdict: decision.verdict, by: 'operator' });
    return { ...outcome, sent: reply !== undefined };
  }

  async revoke(grantId: string, reason: string, reply: Reply | undefined): Promise<GrantRevoked> {
    const { frame, ...outcome } = await this.grants.revokeByOperator(grantId, reason);
    if (reply) reply(frame);
    this.emit('grant-revoked', { grantId, by: 'operator', sent: reply !== undefined });
    return { ...outcome, sent: reply !== undefined };
  }
}
