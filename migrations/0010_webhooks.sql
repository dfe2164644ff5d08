-- Webhooks (issue 11): subscriptions, and their outbox of deliveries.
-- A delivery row is written in the same transaction as the change it reports (beside its audit entry),
-- so an event is delivered if and only if its change committed; a background worker sends it.
CREATE TABLE webhooks (
  id          uuid        NOT NULL,
  url         text        NOT NULL,
  -- The event types subscribed to: a JSON array of strings (docs/protocol.md, Webhooks).
  events      jsonb       NOT NULL,
  description text,
  -- The Standard Webhooks signing secret (`whsec_` + base64 of 32 random bytes): the coordinator needs it
  -- to sign, so it is stored as it is; it is shown to the admin once and never served again (threat model).
  secret      text        NOT NULL,
  created_at  timestamptz NOT NULL,
  created_by  text        NOT NULL,
  disabled_at timestamptz,
  CONSTRAINT webhooks_pkey PRIMARY KEY (id),
  CONSTRAINT webhooks_url_check CHECK (url ~ '^https?://')
);

CREATE TABLE webhook_deliveries (
  -- Also the `webhook-id` header: the same on every attempt, so that a receiver can drop duplicates.
  id                   uuid        NOT NULL,
  webhook_id           uuid        NOT NULL,
  event_type           text        NOT NULL,
  -- The body sent: `{ type, timestamp, data }`.
  payload              jsonb       NOT NULL,
  status               text        NOT NULL,
  attempts             integer     NOT NULL,
  -- Due time of the next attempt; while an attempt runs, the end of its lease (a worker that dies frees it).
  next_attempt_at      timestamptz,
  last_attempt_at      timestamptz,
  last_response_status integer,
  last_error           text,
  delivered_at         timestamptz,
  created_at           timestamptz NOT NULL,
  CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
  CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks (id),
  CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
  CONSTRAINT webhook_deliveries_due_check CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);

-- The worker's query: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
-- A webhook's delivery log, newest first.
CREATE INDEX webhook_deliveries_webhook_id_idx ON webhook_deliveries (webhook_id, created_at);
