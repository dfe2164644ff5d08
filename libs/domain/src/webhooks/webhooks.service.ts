import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { actorRef } from '../common/actor.js';
import type { Actor } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { WebhookDeliveryRecord, WebhookEventType, WebhookRecord } from './webhook-records.js';

/** How many deliveries a webhook's view lists (newest first). */
export const WEBHOOK_VIEW_DELIVERIES = 50;

/** A new Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Webhook subscriptions (admin): create (the secret shown once), list, view with its deliveries, disable. */
@Injectable()
export class WebhooksService {
  constructor(@Inject(STORE) private readonly store: Store) {}

  async create(input: { url: string; events: readonly WebhookEventType[]; description?: string | undefined }, actor: Actor): Promise<WebhookRecord> {
    const webhook: WebhookRecord = {
      id: randomUUID(),
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      secret: newWebhookSecret(),
      createdAt: new Date(),
      createdBy: actorRef(actor),
      disabledAt: null,
    };
    await this.store.transaction((tx) => tx.webhooks.insert(webhook));
    return webhook;
  }

  list(): Promise<WebhookRecord[]> {
    return this.store.read.webhooks.list();
  }

  async get(id: string): Promise<{ webhook: WebhookRecord; deliveries: WebhookDeliveryRecord[] }> {
    const webhook = await this.store.read.webhooks.findById(id);
    if (!webhook) throw notFound(id);
    return { webhook, deliveries: await this.store.read.webhooks.listDeliveries(id, WEBHOOK_VIEW_DELIVERIES) };
  }

  /** Nothing more is sent to it (its pending deliveries fail); disabling a disabled webhook returns it unchanged. */
  async disable(id: string): Promise<WebhookRecord> {
    return this.store.transaction(async (tx) => {
      const webhook = await tx.webhooks.findById(id);
      if (!webhook) throw notFound(id);
      if (webhook.disabledAt) return webhook;
      const at = new Date();
      await tx.webhooks.disable(id, at);
      return { ...webhook, disabledAt: at };
    });
  }
}

const notFound = (id: string) => new DomainError('WEBHOOK_NOT_FOUND', `webhook ${id} not found`, { webhookId: id });
