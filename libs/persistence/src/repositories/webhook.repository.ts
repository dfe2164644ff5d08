import { In, type EntityManager } from 'typeorm';
import type { ClaimedDelivery, WebhookAttemptOutcome, WebhookDeliveryRecord, WebhookPayload, WebhookRecord, WebhookRepository } from '#domain';
import { WebhookDeliveryEntity, WebhookEntity } from '../entities/webhook.entity.js';
import { expectOneRow, isUuid } from './repository-support.js';

export class TypeOrmWebhookRepository implements WebhookRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(webhook: WebhookRecord): Promise<void> {
    await this.manager.insert(WebhookEntity, webhook);
  }

  async findById(id: string): Promise<WebhookRecord | null> {
    return isUuid(id) ? this.manager.findOneBy(WebhookEntity, { id }) : null;
  }

  list(): Promise<WebhookRecord[]> {
    return this.manager.find(WebhookEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Disables the webhook and settles its pending deliveries as failed: nothing more is sent to it. */
  async disable(id: string, at: Date): Promise<void> {
    expectOneRow(await this.manager.update(WebhookEntity, { id }, { disabledAt: at }), `webhook ${id}`);
    await this.manager.update(WebhookDeliveryEntity, { webhookId: id, status: 'pending' }, { status: 'failed', nextAttemptAt: null, lastError: 'webhook disabled' });
  }

  /** One statement for the whole batch: every (payload, subscribed enabled webhook) pair becomes a pending row. */
  async enqueue(payloads: readonly WebhookPayload[], at: Date): Promise<number> {
    if (payloads.length === 0) return 0;
    const rows = await this.manager.query<{ id: string }[]>(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, attempts, next_attempt_at, created_at)
       SELECT gen_random_uuid(), w.id, p.value->>'type', p.value, 'pending', 0, $2, $2
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS p(value, n)
         JOIN webhooks w ON w.disabled_at IS NULL AND w.events @> jsonb_build_array(p.value->>'type')
        ORDER BY p.n
       RETURNING id`,
      [JSON.stringify(payloads), at],
    );
    return rows.length;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const claimed = await this.manager.query<{ id: string }[]>(
      // A SELECT around the UPDATE: the drivers answer an UPDATE's RETURNING in another shape than rows.
      `WITH claimed AS (
         UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, last_attempt_at = $1
          WHERE id IN (
            SELECT id FROM webhook_deliveries
             WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at, created_at
             LIMIT $3
               FOR UPDATE SKIP LOCKED)
         RETURNING id)
       SELECT id FROM claimed`,
      [now, leaseUntil, limit],
    );
    if (claimed.length === 0) return [];
    const deliveries = await this.manager.find(WebhookDeliveryEntity, { where: { id: In(claimed.map((r) => r.id)) }, order: { createdAt: 'ASC', id: 'ASC' } });
    const webhooks = await this.manager.findBy(WebhookEntity, { id: In([...new Set(deliveries.map((d) => d.webhookId))]) });
    const byId = new Map(webhooks.map((w) => [w.id, w]));
    return deliveries.map((delivery) => ({ delivery, url: byId.get(delivery.webhookId)!.url, secret: byId.get(delivery.webhookId)!.secret }));
  }

  async recordAttempt(deliveryId: string, outcome: WebhookAttemptOutcome): Promise<void> {
    expectOneRow(
      await this.manager.update(
        WebhookDeliveryEntity,
        { id: deliveryId },
        {
          status: outcome.status,
          nextAttemptAt: outcome.nextAttemptAt,
          lastAttemptAt: outcome.at,
          lastResponseStatus: outcome.responseStatus,
          lastError: outcome.error,
          ...(outcome.status === 'delivered' ? { deliveredAt: outcome.at } : {}),
        },
      ),
      `webhook delivery ${deliveryId}`,
    );
  }

  listDeliveries(webhookId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    return this.manager.find(WebhookDeliveryEntity, { where: { webhookId }, order: { createdAt: 'DESC', id: 'DESC' }, take: limit });
  }
}
