import { grantDetail, grantItem, type GrantStore } from '../grants/grant-store.js';
import type { GrantDecided, GrantRevoked } from '../grants/grant-protocol.js';
import type { ApprovalQueue } from './approval-queue.js';
import { approvalDetail } from './approval-queue.js';
import { ApprovalsRefusal, type ApprovalDecided } from './approvals-protocol.js';
import type { ApprovalsHandler } from './approvals-server.js';

export type OperatorVerdict = { verdict: 'approve' } | { verdict: 'decline'; reason: string };

export interface ApprovalsHandlerDeps {
  queue: ApprovalQueue;
  /** The session-key grants proposed to the node. */
  grants: GrantStore;
  now: () => number;
  /** Approves or rejects a request through the node (serialized with the coordinator's frames). */
  decide(requestId: string, decision: OperatorVerdict): Promise<ApprovalDecided>;
  /** Approves or rejects a grant through the node. */
  decideGrant(grantId: string, decision: OperatorVerdict): Promise<GrantDecided>;
  /** Revokes a grant on the node (the kill switch), through the node. */
  revokeGrant(grantId: string, reason: string): Promise<GrantRevoked>;
}

/**
 * The node's answers on the approvals channel: list and show read the queue and the grants, approve and
 * reject go through the node. `signer approvals` shows the grants the grant rules left to the operator
 * (`ask`) beside the requests; an id names a request or a grant (both are UUIDs, never the same).
 */
export function approvalsHandler(deps: ApprovalsHandlerDeps): ApprovalsHandler {
  const operatorGrants = (now: number) => deps.grants.all().filter((g) => g.evaluation.outcome === 'ask').map((g) => grantItem(g, now));
  const isGrant = (id: string) => !deps.queue.get(id) && !deps.queue.closedAs(id) && deps.grants.get(id) !== undefined;
  return async (request) => {
    const now = deps.now();
    switch (request.op) {
      case 'list': {
        const all = [...deps.queue.list(now), ...operatorGrants(now)];
        return { ok: true, approvals: all.sort((a, b) => a.receivedAt - b.receivedAt) };
      }
      case 'show': {
        const entry = deps.queue.get(request.id);
        if (!entry) {
          const grant = deps.grants.get(request.id);
          if (grant) return { ok: true, approval: grantDetail(grant, now) };
          const closed = deps.queue.closedAs(request.id);
          if (closed) throw new ApprovalsRefusal('APPROVAL_CLOSED', `request ${request.id} was ${closed} by the coordinator; its approval was removed`);
          throw new ApprovalsRefusal('APPROVAL_NOT_FOUND', `no approval ${request.id} on this node (see \`signer approvals list\`)`);
        }
        return { ok: true, approval: approvalDetail(entry, now) };
      }
      case 'approve':
        if (isGrant(request.id)) return { ok: true, ...(await deps.decideGrant(request.id, { verdict: 'approve' })) };
        return { ok: true, ...(await deps.decide(request.id, { verdict: 'approve' })) };
      case 'reject': {
        const decision = { verdict: 'decline' as const, reason: request.reason };
        if (isGrant(request.id)) return { ok: true, ...(await deps.decideGrant(request.id, decision)) };
        return { ok: true, ...(await deps.decide(request.id, decision)) };
      }
      case 'grants.list':
        return { ok: true, grants: deps.grants.all().map((g) => grantItem(g, now)) };
      case 'grants.show': {
        const grant = deps.grants.get(request.id);
        if (!grant) throw new ApprovalsRefusal('GRANT_NOT_FOUND', `no grant ${request.id} on this node (see \`signer grants list\`)`);
        return { ok: true, grant: grantDetail(grant, now) };
      }
      case 'grants.revoke':
        return { ok: true, ...(await deps.revokeGrant(request.id, request.reason)) };
    }
  };
}
