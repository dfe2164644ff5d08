import { EntitySchema } from 'typeorm';
import type { WebhookDeliveryRecord, WebhookRecord } from '#domain';
import { integer, jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';

/** A webhook subscription (migration 0010). */
export const WebhookEntity = new EntitySchema<WebhookRecord>({
  name: 'Webhook',
  tableName: 'webhooks',
  columns: {
    id: primaryUuid('webhooks'),
    url: text('url'),
    events: jsonb('events'),
    description: text('description', true),
    secret: text('secret'),
    createdAt: timestamptz('created_at'),
    createdBy: text('created_by'),
    disabledAt: timestamptz('disabled_at', true),
  },
  checks: [{ name: 'webhooks_url_check', expression: `url ~ '^https?://'` }],
});

/** One event for one webhook: the outbox row (migration 0010). */
export const WebhookDeliveryEntity = new EntitySchema<WebhookDeliveryRecord>({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  columns: {
    id: primaryUuid('webhook_deliveries'),
    webhookId: uuid('webhook_id'),
    eventType: text('event_type'),
    payload: jsonb('payload'),
    status: text('status'),
    attempts: integer('attempts'),
    nextAttemptAt: timestamptz('next_attempt_at', true),
    lastAttemptAt: timestamptz('last_attempt_at', true),
    lastResponseStatus: { name: 'last_response_status', type: 'integer', nullable: true },
    lastError: text('last_error', true),
    deliveredAt: timestamptz('delivered_at', true),
    createdAt: timestamptz('created_at'),
  },
  foreignKeys: [{ name: 'webhook_deliveries_webhook_id_fkey', target: WebhookEntity, columnNames: ['webhookId'], referencedColumnNames: ['id'] }],
  checks: [
    { name: 'webhook_deliveries_status_check', expression: `status IN ('pending', 'delivered', 'failed')` },
    { name: 'webhook_deliveries_due_check', expression: `(status = 'pending') = (next_attempt_at IS NOT NULL)` },
  ],
  indices: [
    { name: 'webhook_deliveries_due_idx', columns: ['status', 'nextAttemptAt'] },
    { name: 'webhook_deliveries_webhook_id_idx', columns: ['webhookId', 'createdAt'] },
  ],
});
