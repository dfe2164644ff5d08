import { z } from 'zod';
import { Text, Uuid, WEBHOOK_EVENTS } from '#protocol';
import { Timestamp } from './common.js';

export const WebhookEventType = z.enum(WEBHOOK_EVENTS);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** Where deliveries go: an absolute http(s) URL (any other scheme is refused), at most 2,000 characters. */
export const WebhookUrl = z
  .string()
  .trim()
  .max(2000)
  .refine((s) => URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol), 'an absolute http:// or https:// URL')
  .transform((s) => new URL(s).href);

/** `POST /v1/webhooks`. */
export const CreateWebhookBody = z.strictObject({
  url: WebhookUrl,
  events: z.array(WebhookEventType).min(1).max(WEBHOOK_EVENTS.length * 2),
  description: Text(500).optional(),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

/** `GET /v1/webhooks`, `POST /v1/webhooks/:id/disable`: never its secret. */
export const WebhookResponse = z.object({
  id: Uuid,
  url: z.string(),
  events: z.array(WebhookEventType),
  description: z.string().nullable(),
  status: z.enum(['active', 'disabled']),
  createdAt: Timestamp,
  /** `admin` (the bootstrap token) or `principal:<id>`. */
  createdBy: z.string(),
  disabledAt: Timestamp.nullable(),
});
export type WebhookResponse = z.infer<typeof WebhookResponse>;

/** `POST /v1/webhooks` (201): the webhook and its Standard Webhooks signing secret, shown this once. */
export const CreateWebhookResponse = WebhookResponse.extend({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{43}=$/),
});
export type CreateWebhookResponse = z.infer<typeof CreateWebhookResponse>;

/** `GET /v1/webhooks`: in creation order, disabled ones included. */
export const WebhookListResponse = z.array(WebhookResponse);
export type WebhookListResponse = z.infer<typeof WebhookListResponse>;

/** One event for the webhook, and how its delivery went. */
export const WebhookDeliveryResponse = z.object({
  /** Also the `webhook-id` header the receiver saw, as `msg_<id>`. */
  id: Uuid,
  event: WebhookEventType,
  /** `pending` (to be sent or retried), `delivered` (a 2xx), `failed` (every retry spent, or the webhook disabled). */
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int().min(0),
  lastAttemptAt: Timestamp.nullable(),
  /** The receiver's HTTP status on the last attempt; null when it did not answer. */
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextRetryAt: Timestamp.nullable(),
  deliveredAt: Timestamp.nullable(),
  createdAt: Timestamp,
  payload: z.object({ type: WebhookEventType, timestamp: Timestamp, data: z.record(z.string(), z.unknown()) }),
});
export type WebhookDeliveryResponse = z.infer<typeof WebhookDeliveryResponse>;

/** `GET /v1/webhooks/:id`: the webhook and its latest deliveries, newest first. */
export const WebhookViewResponse = WebhookResponse.extend({
  deliveries: z.array(WebhookDeliveryResponse),
});
export type WebhookViewResponse = z.infer<typeof WebhookViewResponse>;
