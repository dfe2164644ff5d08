-- Roundtable initial schema.
-- Ids are uuids chosen by the application, times are timestamptz, structured fields are jsonb.
-- Constraint and index names are explicit: the TypeORM entities in libs/persistence name them too,
-- and the repositories recognise the commitment unique constraints by name.

CREATE TABLE nodes (
  id           uuid        NOT NULL,
  label        text        NOT NULL,
  public_key   text        NOT NULL,
  status       text        NOT NULL,
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  last_seen_at timestamptz,
  CONSTRAINT nodes_pkey PRIMARY KEY (id),
  CONSTRAINT nodes_public_key_key UNIQUE (public_key),
  CONSTRAINT nodes_status_check CHECK (status IN ('active', 'revoked'))
);

CREATE TABLE keys (
  id               uuid        NOT NULL,
  suite            text        NOT NULL,
  threshold        integer     NOT NULL,
  max_signers      integer     NOT NULL,
  group_public_key text        NOT NULL,
  public_package   jsonb       NOT NULL,
  status           text        NOT NULL,
  origin           text        NOT NULL,
  created_at       timestamptz NOT NULL,
  CONSTRAINT keys_pkey PRIMARY KEY (id),
  CONSTRAINT keys_status_check CHECK (status IN ('active', 'retired')),
  CONSTRAINT keys_signers_check CHECK (threshold >= 1 AND max_signers >= threshold)
);

CREATE TABLE key_members (
  key_id          uuid NOT NULL,
  node_id         uuid NOT NULL,
  identifier      text NOT NULL,
  verifying_share text NOT NULL,
  CONSTRAINT key_members_pkey PRIMARY KEY (key_id, node_id),
  CONSTRAINT key_members_key_id_identifier_key UNIQUE (key_id, identifier),
  CONSTRAINT key_members_key_id_fkey FOREIGN KEY (key_id) REFERENCES keys (id),
  CONSTRAINT key_members_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id)
);
-- "Active keys in which the node holds a share".
CREATE INDEX key_members_node_id_idx ON key_members (node_id);

CREATE TABLE signing_requests (
  id               uuid        NOT NULL,
  key_id           uuid        NOT NULL,
  message          text        NOT NULL,
  message_encoding text        NOT NULL,
  description      text        NOT NULL,
  status           text        NOT NULL,
  deadline         timestamptz NOT NULL,
  idempotency_key  text,
  request_hash     text        NOT NULL,
  created_by       text        NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  completed_at     timestamptz,
  signature        text,
  failure_code     text,
  failure_reason   text,
  culprits         jsonb       NOT NULL,
  attempt_count    integer     NOT NULL,
  CONSTRAINT signing_requests_pkey PRIMARY KEY (id),
  CONSTRAINT signing_requests_idempotency_key_key UNIQUE (idempotency_key),
  CONSTRAINT signing_requests_key_id_fkey FOREIGN KEY (key_id) REFERENCES keys (id),
  CONSTRAINT signing_requests_message_encoding_check CHECK (message_encoding IN ('hex', 'utf8')),
  CONSTRAINT signing_requests_status_check
    CHECK (status IN ('pending', 'committing', 'signing', 'completed', 'failed', 'expired'))
);
-- listOpen() scans only the requests still in progress, oldest first.
CREATE INDEX signing_requests_open_idx ON signing_requests (status, created_at)
  WHERE status IN ('pending', 'committing', 'signing');
CREATE INDEX signing_requests_key_id_idx ON signing_requests (key_id, created_at);

CREATE TABLE signing_attempts (
  id             uuid        NOT NULL,
  request_id     uuid        NOT NULL,
  seq            integer     NOT NULL,
  status         text        NOT NULL,
  participants   jsonb       NOT NULL,
  commitments    jsonb       NOT NULL,
  deadline       timestamptz NOT NULL,
  started_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  failure_reason text,
  CONSTRAINT signing_attempts_pkey PRIMARY KEY (id),
  CONSTRAINT signing_attempts_request_id_seq_key UNIQUE (request_id, seq),
  CONSTRAINT signing_attempts_request_id_fkey FOREIGN KEY (request_id) REFERENCES signing_requests (id),
  CONSTRAINT signing_attempts_status_check CHECK (status IN ('signing', 'completed', 'failed', 'timed_out', 'aborted'))
);

-- A nonce commitment is accepted once per key, ever: the two unique constraints below are what
-- enforces it (CommitmentRepository.insert maps their violation to CommitmentReusedError).
CREATE TABLE commitments (
  id          uuid        NOT NULL,
  key_id      uuid        NOT NULL,
  request_id  uuid        NOT NULL,
  node_id     uuid        NOT NULL,
  identifier  text        NOT NULL,
  hiding      text        NOT NULL,
  binding     text        NOT NULL,
  status      text        NOT NULL,
  attempt_id  uuid,
  received_at timestamptz NOT NULL,
  CONSTRAINT commitments_pkey PRIMARY KEY (id),
  CONSTRAINT commitments_key_id_hiding_key UNIQUE (key_id, hiding),
  CONSTRAINT commitments_key_id_binding_key UNIQUE (key_id, binding),
  CONSTRAINT commitments_key_id_fkey FOREIGN KEY (key_id) REFERENCES keys (id),
  CONSTRAINT commitments_request_id_fkey FOREIGN KEY (request_id) REFERENCES signing_requests (id),
  CONSTRAINT commitments_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id),
  CONSTRAINT commitments_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES signing_attempts (id),
  CONSTRAINT commitments_status_check CHECK (status IN ('ready', 'assigned', 'used', 'burned')),
  -- An assigned or used commitment always names its attempt.
  CONSTRAINT commitments_attempt_check CHECK (attempt_id IS NOT NULL OR status IN ('ready', 'burned'))
);
CREATE INDEX commitments_request_id_status_idx ON commitments (request_id, status);
CREATE INDEX commitments_attempt_id_idx ON commitments (attempt_id);

CREATE TABLE signature_shares (
  attempt_id  uuid        NOT NULL,
  request_id  uuid        NOT NULL,
  node_id     uuid        NOT NULL,
  identifier  text        NOT NULL,
  share       text        NOT NULL,
  valid       boolean,
  received_at timestamptz NOT NULL,
  CONSTRAINT signature_shares_pkey PRIMARY KEY (attempt_id, node_id),
  CONSTRAINT signature_shares_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES signing_attempts (id),
  CONSTRAINT signature_shares_request_id_fkey FOREIGN KEY (request_id) REFERENCES signing_requests (id),
  CONSTRAINT signature_shares_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id)
);

-- The audit log is a hash chain (libs/audit). Its reference columns are plain text without foreign
-- keys: an entry must be recordable even when it names something that was refused or never existed.
CREATE TABLE audit_log (
  seq         bigint      NOT NULL,
  id          uuid        NOT NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  actor_kind  text        NOT NULL,
  actor_id    text        NOT NULL,
  action      text        NOT NULL,
  outcome     text        NOT NULL,
  key_id      text,
  request_id  text,
  attempt_id  text,
  node_id     text,
  details     jsonb       NOT NULL,
  prev_hash   text        NOT NULL,
  hash        text        NOT NULL,
  CONSTRAINT audit_log_pkey PRIMARY KEY (seq),
  CONSTRAINT audit_log_id_key UNIQUE (id),
  CONSTRAINT audit_log_hash_key UNIQUE (hash),
  -- Each entry has exactly one successor: the chain cannot fork.
  CONSTRAINT audit_log_prev_hash_key UNIQUE (prev_hash),
  CONSTRAINT audit_log_seq_check CHECK (seq >= 1),
  CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('admin', 'node', 'system')),
  CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('success', 'failure'))
);
CREATE INDEX audit_log_request_id_idx ON audit_log (request_id, seq);
CREATE INDEX audit_log_key_id_idx ON audit_log (key_id, seq);
CREATE INDEX audit_log_node_id_idx ON audit_log (node_id, seq);
CREATE INDEX audit_log_attempt_id_idx ON audit_log (attempt_id, seq);
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
