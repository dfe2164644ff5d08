import type { AuditAction, AuditEntryInput, GrantRecord, SigningRequestRecord } from '../records.js';
import type { WebhookEventType, WebhookPayload } from './webhook-records.js';

/** The audit actions that are webhook events of a request as they are (`request.approved` is counted: see below). */
const REQUEST_EVENTS: Partial<Record<AuditAction, WebhookEventType>> = {
  'request.created': 'request.pending',
  'signature.produced': 'request.completed',
  'request.failed': 'request.failed',
  'request.expired': 'request.expired',
  'request.rejected': 'request.rejected',
  'request.cancelled': 'request.cancelled',
};

const GRANT_EVENTS: Partial<Record<AuditAction, WebhookEventType>> = {
  'grant.activated': 'grant.approved',
  'grant.revoked': 'grant.revoked',
};

/** What every request event carries: the request as it stands once the change that caused the event committed. */
export function requestEventData(request: SigningRequestRecord): Record<string, unknown> {
  return {
    requestId: request.id,
    keyId: request.keyId,
    status: request.status,
    intentHash: request.intentHash,
    grantId: request.grantId ?? null,
    failure: request.failureCode ? { code: request.failureCode, reason: request.failureReason } : null,
    signature: request.signature,
  };
}

/**
 * The webhook events a batch of a request's audit entries means. `approvals` counts the request's
 * approving nodes before and after the batch: `request.approved` is sent once, when the count reaches the
 * key's threshold (t nodes approved), not for every node's approval.
 */
export function requestWebhookEvents(
  request: SigningRequestRecord,
  entries: readonly AuditEntryInput[],
  approvals: { before: number; after: number; threshold: number } | null = null,
): WebhookPayload[] {
  const data = requestEventData(request);
  const out: WebhookPayload[] = [];
  for (const entry of entries) {
    if (entry.requestId !== request.id) continue;
    const type = REQUEST_EVENTS[entry.action];
    if (type) out.push({ type, timestamp: entry.occurredAt.toISOString(), data });
  }
  if (approvals && approvals.before < approvals.threshold && approvals.after >= approvals.threshold) {
    const at = entries.find((e) => e.action === 'request.approved')?.occurredAt ?? new Date();
    out.unshift({ type: 'request.approved', timestamp: at.toISOString(), data: { ...data, approvals: approvals.after, threshold: approvals.threshold } });
  }
  return out;
}

/** The webhook events of a grant's audit entries: `grant.activated` (approved by t nodes, active) and `grant.revoked`. */
export function grantWebhookEvents(grant: GrantRecord, entries: readonly AuditEntryInput[]): WebhookPayload[] {
  const out: WebhookPayload[] = [];
  for (const entry of entries) {
    const type = GRANT_EVENTS[entry.action];
    const about = entry.details['grantId'];
    if (!type || (about !== undefined && about !== grant.id)) continue;
    out.push({
      type,
      timestamp: entry.occurredAt.toISOString(),
      data: {
        grantId: grant.id,
        keyId: grant.keyId,
        status: type === 'grant.approved' ? 'active' : 'revoked',
        grantHash: grant.grantHash,
        label: grant.grant.label,
        ...(type === 'grant.revoked' ? { reason: grant.revokeReason ?? entry.details['reason'] ?? null, revokedBy: grant.revokedBy } : {}),
      },
    });
  }
  return out;
}

/**
 * When the next attempt after `attempts` failed ones may run: `delays[attempts - 1]` later, or null once
 * every delay is spent (the delivery has failed for good).
 */
export function nextAttemptAt(attempts: number, delaysMs: readonly number[], now: Date): Date | null {
  const delay = delaysMs[attempts - 1];
  return delay === undefined ? null : new Date(now.getTime() + delay);
}

/** `request.pending`: a request was created (written beside its `request.created` audit entry). */
export function requestPendingEvent(request: SigningRequestRecord, at: Date): WebhookPayload {
  return { type: 'request.pending', timestamp: at.toISOString(), data: requestEventData(request) };
}
