-- Where each node stands on each signing request (issue 9), one row per node and request: proposed
-- (`proposed_at`), waiting for its operator (`request.awaiting`: `awaiting_since`, with the policy's hash,
-- rule and reason), and its decision: a signed approval or decline (verdict, source, time, signature),
-- checked against the node's identity key before it is stored. The first decision stands: a contrary one
-- is refused by the coordinator. The audit log keeps every accepted decision too, with the node's identity
-- key, for offline checks.
CREATE TABLE request_decisions (
  request_id     uuid        NOT NULL,
  node_id        uuid        NOT NULL,
  verdict        text,
  source         text,
  policy_hash    text,
  rule           text,
  reason         text,
  decided_at     timestamptz,
  signature      text,
  proposed_at    timestamptz,
  awaiting_since timestamptz,
  received_at    timestamptz NOT NULL,
  CONSTRAINT request_decisions_pkey PRIMARY KEY (request_id, node_id),
  CONSTRAINT request_decisions_request_id_fkey FOREIGN KEY (request_id) REFERENCES signing_requests (id),
  CONSTRAINT request_decisions_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id),
  CONSTRAINT request_decisions_verdict_check CHECK (verdict IN ('approve', 'decline')),
  CONSTRAINT request_decisions_source_check CHECK (source IN ('policy', 'operator')),
  -- A decision is whole (verdict, source, time, signature, policy hash, reason) or absent.
  CONSTRAINT request_decisions_signed_check CHECK (
    (verdict IS NULL AND source IS NULL AND decided_at IS NULL AND signature IS NULL)
    OR (verdict IS NOT NULL AND source IS NOT NULL AND decided_at IS NOT NULL AND signature IS NOT NULL
        AND policy_hash IS NOT NULL AND reason IS NOT NULL)
  ),
  CONSTRAINT request_decisions_awaiting_check CHECK (awaiting_since IS NULL OR (policy_hash IS NOT NULL AND reason IS NOT NULL))
);
