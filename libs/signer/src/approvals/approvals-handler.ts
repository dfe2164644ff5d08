import type { ApprovalQueue } from './approval-queue.js';
import { approvalDetail } from './approval-queue.js';
import { ApprovalsRefusal, type ApprovalDecided } from './approvals-protocol.js';
import type { ApprovalsHandler } from './approvals-server.js';

export interface ApprovalsHandlerDeps {
  queue: ApprovalQueue;
  now: () => number;
  /** Approves or rejects through the node (serialized with the coordinator's frames). */
  decide(requestId: string, decision: { verdict: 'approve' } | { verdict: 'decline'; reason: string }): Promise<ApprovalDecided>;
}

/** The node's answers on the approvals channel: list and show read the queue, approve and reject go through the node. */
export function approvalsHandler(deps: ApprovalsHandlerDeps): ApprovalsHandler {
  return async (request) => {
    switch (request.op) {
      case 'list':
        return { ok: true, approvals: deps.queue.list(deps.now()) };
      case 'show': {
        const entry = deps.queue.get(request.id);
        if (!entry) {
          const closed = deps.queue.closedAs(request.id);
          if (closed) throw new ApprovalsRefusal('APPROVAL_CLOSED', `request ${request.id} was ${closed} by the coordinator; its approval was removed`);
          throw new ApprovalsRefusal('APPROVAL_NOT_FOUND', `no approval ${request.id} on this node (see \`signer approvals list\`)`);
        }
        return { ok: true, approval: approvalDetail(entry, deps.now()) };
      }
      case 'approve':
        return { ok: true, ...(await deps.decide(request.id, { verdict: 'approve' })) };
      case 'reject':
        return { ok: true, ...(await deps.decide(request.id, { verdict: 'decline', reason: request.reason })) };
    }
  };
}
