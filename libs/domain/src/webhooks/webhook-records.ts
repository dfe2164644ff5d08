import type { WEBHOOK_EVENTS } from '#protocol';

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** A webhook subscription (migration 0010). `secret` is the Standard Webhooks `whsec_...` key the coordinator signs with. */
export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  secret: string;
  createdAt: Date;
  /** `admin` (the bootstrap token) or `principal:<id>`. */
  createdBy: string;
  disabledAt: Date | null;
}

/** What a delivery sends: the Standard Webhooks body `{ type, timestamp, data }`. */
export interface WebhookPayload {
  type: WebhookEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one webhook: the outbox row, written in the transaction of the change it reports. */
export interface WebhookDeliveryRecord {
  id: string;
  webhookId: string;
  eventType: WebhookEventType;
  payload: WebhookPayload;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** When the worker may (next) send it; while an attempt runs, the end of its lease. Null once settled. */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  /** The receiver's HTTP status on the last attempt (null: no answer). */
  lastResponseStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** A delivery claimed by a worker, with what it needs to send it. */
export interface ClaimedDelivery {
  delivery: WebhookDeliveryRecord;
  url: string;
  secret: string;
}

export interface WebhookAttemptOutcome {
  at: Date;
  status: WebhookDeliveryStatus;
  responseStatus: number | null;
  error: string | null;
  nextAttemptAt: Date | null;
}

/** Webhooks and their outbox (migration 0010). */
export interface WebhookRepository {
  insert(webhook: WebhookRecord): Promise<void>;
  findById(id: string): Promise<WebhookRecord | null>;
  /** In creation order, disabled ones included. */
  list(): Promise<WebhookRecord[]>;
  disable(id: string, at: Date): Promise<void>;
  /**
   * In the caller's transaction: one pending delivery per enabled webhook subscribed to each payload's
   * type (one statement per payload, none when no webhook exists). Returns how many rows it wrote.
   */
  enqueue(payloads: readonly WebhookPayload[], at: Date): Promise<number>;
  /**
   * Claims up to `limit` pending deliveries due at `now` (`FOR UPDATE SKIP LOCKED`: a row another
   * instance is claiming is skipped, not waited for), counts the attempt and leases each until
   * `leaseUntil`, so that no other worker sends it meanwhile; a worker that dies frees it at the lease's end.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>;
  recordAttempt(deliveryId: string, outcome: WebhookAttemptOutcome): Promise<void>;
  /** The webhook's deliveries, newest first. */
  listDeliveries(webhookId: string, limit: number): Promise<WebhookDeliveryRecord[]>;
}
