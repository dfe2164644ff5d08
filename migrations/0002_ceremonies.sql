-- Distributed key generation ceremonies relayed by the coordinator.
-- Everything stored here is public: round-1 packages are signed public commitments, round-2 shares are
-- sealed end to end between participants (the coordinator stores ciphertext it cannot open), results are
-- the public key package each participant derived.

CREATE TABLE ceremonies (
  id               uuid        NOT NULL,
  key_id           uuid        NOT NULL,
  suite            text        NOT NULL,
  threshold        integer     NOT NULL,
  status           text        NOT NULL,
  participants     jsonb       NOT NULL,
  round1           jsonb       NOT NULL,
  transcript_hash  text,
  failure_code     text,
  failure_reason   text,
  culprit_node_id  uuid,
  culprits         jsonb       NOT NULL,
  deadline         timestamptz NOT NULL,
  round_timeout_ms integer     NOT NULL,
  created_by       text        NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  completed_at     timestamptz,
  CONSTRAINT ceremonies_pkey PRIMARY KEY (id),
  CONSTRAINT ceremonies_key_id_key UNIQUE (key_id),
  CONSTRAINT ceremonies_status_check CHECK (status IN ('round1', 'round2', 'round3', 'completed', 'failed')),
  CONSTRAINT ceremonies_threshold_check CHECK (threshold >= 2)
);
-- listOpen() scans only the ceremonies still in a round.
CREATE INDEX ceremonies_open_idx ON ceremonies (status, created_at) WHERE status IN ('round1', 'round2', 'round3');
CREATE INDEX ceremonies_created_at_idx ON ceremonies (created_at);

CREATE TABLE ceremony_round2 (
  ceremony_id     uuid        NOT NULL,
  from_identifier text        NOT NULL,
  to_identifier   text        NOT NULL,
  transcript_hash text        NOT NULL,
  sealed          jsonb       NOT NULL,
  received_at     timestamptz NOT NULL,
  CONSTRAINT ceremony_round2_pkey PRIMARY KEY (ceremony_id, from_identifier, to_identifier),
  CONSTRAINT ceremony_round2_ceremony_id_fkey FOREIGN KEY (ceremony_id) REFERENCES ceremonies (id)
);

CREATE TABLE ceremony_results (
  ceremony_id uuid        NOT NULL,
  node_id     uuid        NOT NULL,
  result      jsonb       NOT NULL,
  received_at timestamptz NOT NULL,
  CONSTRAINT ceremony_results_pkey PRIMARY KEY (ceremony_id, node_id),
  CONSTRAINT ceremony_results_ceremony_id_fkey FOREIGN KEY (ceremony_id) REFERENCES ceremonies (id),
  CONSTRAINT ceremony_results_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id)
);
