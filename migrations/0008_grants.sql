-- Session-key grants (issue 10): a scoped, time-bound, revocable authorization of an agent's session key
-- to request signatures under one key. `grant` is the canonical Grant (libs/protocol `Grant`) whose
-- SHA-256 (`grant_hash`, libs/intent `grantHash`) every node signs when it decides; the other columns
-- repeat what lists and checks need. A grant is `proposed`, then `active` once t members approved it
-- (`rejected` once more than n - t declined), until `revoked` (by an admin, its proposer or a node's
-- operator) or `expired` (`valid_until` passed).
CREATE TABLE grants (
  id            uuid        NOT NULL,
  key_id        uuid        NOT NULL,
  "grant"       jsonb       NOT NULL,
  grant_hash    text        NOT NULL,
  status        text        NOT NULL,
  -- `admin` or `principal:<id>`, as the grant names it.
  proposer      text        NOT NULL,
  created_at    timestamptz NOT NULL,
  activated_at  timestamptz,
  revoked_at    timestamptz,
  -- `admin`, `principal:<id>` or `node:<id>`.
  revoked_by    text,
  revoke_reason text,
  valid_until   timestamptz NOT NULL,
  CONSTRAINT grants_pkey PRIMARY KEY (id),
  CONSTRAINT grants_key_id_fkey FOREIGN KEY (key_id) REFERENCES keys (id),
  CONSTRAINT grants_status_check CHECK (status IN ('proposed', 'active', 'rejected', 'revoked', 'expired')),
  CONSTRAINT grants_revoked_check CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX grants_key_id_idx ON grants (key_id, created_at);
CREATE INDEX grants_proposer_idx ON grants (proposer, created_at);
CREATE INDEX grants_status_idx ON grants (status, created_at);

-- Where each member node stands on a grant: proposed, awaiting its operator, or its signed decision
-- (verified under the node's identity key before it is stored; the first decision stands).
CREATE TABLE grant_decisions (
  grant_id       uuid        NOT NULL,
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
  CONSTRAINT grant_decisions_pkey PRIMARY KEY (grant_id, node_id),
  CONSTRAINT grant_decisions_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES grants (id),
  CONSTRAINT grant_decisions_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id),
  CONSTRAINT grant_decisions_verdict_check CHECK (verdict IN ('approve', 'decline')),
  CONSTRAINT grant_decisions_source_check CHECK (source IN ('policy', 'operator')),
  CONSTRAINT grant_decisions_signed_check CHECK (
    (verdict IS NULL AND source IS NULL AND decided_at IS NULL AND signature IS NULL)
    OR (verdict IS NOT NULL AND source IS NOT NULL AND decided_at IS NOT NULL AND signature IS NOT NULL
        AND policy_hash IS NOT NULL AND reason IS NOT NULL)
  )
);

-- Every agent nonce used under a grant, once (the primary key refuses a replay, across coordinator
-- instances), with the request it authorized and the agent's signed authorization, which travels with the
-- request's proposals so that each node checks it itself.
CREATE TABLE grant_nonces (
  grant_id      uuid        NOT NULL,
  nonce         text        NOT NULL,
  request_id    uuid        NOT NULL,
  agent_authorization jsonb NOT NULL,
  received_at   timestamptz NOT NULL,
  CONSTRAINT grant_nonces_pkey PRIMARY KEY (grant_id, nonce),
  CONSTRAINT grant_nonces_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES grants (id),
  CONSTRAINT grant_nonces_request_id_key UNIQUE (request_id),
  CONSTRAINT grant_nonces_request_id_fkey FOREIGN KEY (request_id) REFERENCES signing_requests (id)
);

-- A request made under a grant names it.
ALTER TABLE signing_requests ADD COLUMN grant_id uuid;
ALTER TABLE signing_requests ADD CONSTRAINT signing_requests_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES grants (id);
CREATE INDEX signing_requests_grant_id_idx ON signing_requests (grant_id, created_at);

-- Audit entries an agent causes (a request under a grant, accepted or refused) name it: actor kind
-- `agent`, actor id `grant:<id>`.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('admin', 'principal', 'node', 'system', 'agent'));
