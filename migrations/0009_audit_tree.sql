-- Transparency log over the audit chain (issue 11): an RFC 6962 Merkle tree whose leaf i is the entry with
-- seq = i + 1, leaf data = the entry's chain hash (audit_log.hash, 32 bytes). seq is contiguous from 1
-- (the chain's head lock serializes appends), so the leaf index needs no column of its own and the tree is
-- derived from audit_log alone. What is stored here is what cannot be derived: the signed checkpoints.
-- One per (origin, size), never two: a checkpoint is a C2SP tlog-checkpoint in the signed-note format.
CREATE TABLE audit_checkpoints (
  origin      text        NOT NULL,
  tree_size   bigint      NOT NULL,
  -- The Merkle tree hash of the first tree_size leaves, hex.
  root_hash   text        NOT NULL,
  key_name    text        NOT NULL,
  -- The whole signed note (body, blank line, signature line).
  note        text        NOT NULL,
  created_at  timestamptz NOT NULL,
  CONSTRAINT audit_checkpoints_pkey PRIMARY KEY (origin, tree_size),
  CONSTRAINT audit_checkpoints_tree_size_check CHECK (tree_size >= 0)
);
CREATE INDEX audit_checkpoints_created_at_idx ON audit_checkpoints (created_at);

-- Signed checkpoints are evidence, as the entries are: append-only.
CREATE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$;

CREATE TRIGGER audit_checkpoints_append_only
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change();

CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_change();
