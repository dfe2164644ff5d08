import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { STORE, type Store } from '../ports.js';
import { nextAttemptAt } from './webhook-events.js';
import type { ClaimedDelivery, WebhookAttemptOutcome } from './webhook-records.js';

/** How the delivery worker runs, parsed once by the app's config. */
export interface WebhookSettings {
  /** The wait before each retry, in order; once spent, the delivery has failed. */
  retryDelaysMs: readonly number[];
  /** How often the worker looks for due deliveries. */
  pollIntervalMs: number;
  /** How long a receiver has to answer one attempt. */
  timeoutMs: number;
  /** Deliveries claimed per look. */
  batchSize: number;
}
export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');

/** The headers and body of one signed attempt (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). */
export function signedRequest(claimed: ClaimedDelivery, at: Date): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify(claimed.delivery.payload);
  const id = `msg_${claimed.delivery.id}`;
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(claimed.secret).sign(id, at, body),
    },
  };
}

/**
 * The outbox's worker: claims due deliveries (FOR UPDATE SKIP LOCKED, so several coordinator instances
 * on one database never send the same one at once), sends each signed, and records the attempt: delivered
 * on a 2xx, else retried after the next delay of the schedule, or failed once the schedule is spent.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One look: claims and sends what is due; returns how many attempts it made. */
  async tick(now = new Date()): Promise<number> {
    const leaseUntil = new Date(now.getTime() + this.settings.timeoutMs * 2 + 1_000);
    const claimed = await this.store.transaction((tx) => tx.webhooks.claimDue(now, leaseUntil, this.settings.batchSize));
    await Promise.all(claimed.map((c) => this.attempt(c)));
    return claimed.length;
  }

  /** The next look, after `delayMs` (at once after a full batch: more may be due). */
  private schedule(delayMs = this.settings.pollIntervalMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let full = false;
      this.running = this.tick()
        .then((n) => void (full = n >= this.settings.batchSize))
        .catch((e: unknown) => this.logger.warn(`webhook worker: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => {
          this.running = undefined;
          this.schedule(full ? 0 : this.settings.pollIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async attempt(claimed: ClaimedDelivery): Promise<void> {
    const { delivery } = claimed;
    const at = new Date();
    let responseStatus: number | null = null;
    let error: string | null = null;
    try {
      const { headers, body } = signedRequest(claimed, at);
      const res = await fetch(claimed.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.settings.timeoutMs) });
      responseStatus = res.status;
      await res.body?.cancel();
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
    } catch (e) {
      error = e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
    }
    const next = error === null ? null : nextAttemptAt(delivery.attempts, this.settings.retryDelaysMs, at);
    const outcome: WebhookAttemptOutcome = {
      at,
      status: error === null ? 'delivered' : next ? 'pending' : 'failed',
      responseStatus,
      error: error?.slice(0, 500) ?? null,
      nextAttemptAt: next,
    };
    const what = `webhook ${delivery.webhookId} delivery ${delivery.id} (${delivery.eventType}) attempt ${delivery.attempts}`;
    if (outcome.status === 'delivered') this.logger.log(`${what}: delivered (HTTP ${responseStatus})`);
    else this.logger.warn(`${what}: ${error}; ${next ? `retry at ${next.toISOString()}` : 'no retry left: failed'}`);
    await this.store.transaction((tx) => tx.webhooks.recordAttempt(delivery.id, outcome));
  }
}
