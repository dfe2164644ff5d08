import type { WebhookDeliveryResponse, WebhookResponse } from '#api';
import type { WebhookDeliveryRecord, WebhookRecord } from '#domain';

/** A webhook as the API shows it: never its secret (shown once, at creation). */
export function toWebhookDto(w: WebhookRecord): WebhookResponse {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    description: w.description,
    status: w.disabledAt === null ? 'active' : 'disabled',
    createdAt: w.createdAt.toISOString(),
    createdBy: w.createdBy,
    disabledAt: w.disabledAt?.toISOString() ?? null,
  };
}

export function toDeliveryDto(d: WebhookDeliveryRecord): WebhookDeliveryResponse {
  return {
    id: d.id,
    event: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    lastStatus: d.lastResponseStatus,
    lastError: d.lastError,
    // While an attempt runs, next_attempt_at holds its lease: shown as the retry it becomes if the worker dies.
    nextRetryAt: d.status === 'pending' ? (d.nextAttemptAt?.toISOString() ?? null) : null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    payload: d.payload,
  };
}
