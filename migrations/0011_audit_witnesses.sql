-- The signer nodes as witnesses of the transparency log (issue 11). A cosignature is a C2SP
-- tlog-cosignature by a node's identity key on one checkpoint (origin, size): evidence, append-only, one
-- per node and checkpoint. audit_witness_status keeps each node's latest refusal (upserted: a refusal is
-- an alarm to show, not evidence; the node's log and the coordinator's log say the rest).
CREATE TABLE audit_cosignatures (
  origin      text        NOT NULL,
  tree_size   bigint      NOT NULL,
  node_id     uuid        NOT NULL REFERENCES nodes (id),
  key_name    text        NOT NULL,
  -- The cosignature's own timestamp (POSIX seconds), as signed.
  signed_at   bigint      NOT NULL,
  -- The signature line as it appears in the note.
  line        text        NOT NULL,
  created_at  timestamptz NOT NULL,
  CONSTRAINT audit_cosignatures_pkey PRIMARY KEY (origin, tree_size, node_id),
  CONSTRAINT audit_cosignatures_checkpoint_fkey FOREIGN KEY (origin, tree_size) REFERENCES audit_checkpoints (origin, tree_size)
);
CREATE INDEX audit_cosignatures_node_idx ON audit_cosignatures (origin, node_id, tree_size DESC);

CREATE TRIGGER audit_cosignatures_append_only
  BEFORE UPDATE OR DELETE ON audit_cosignatures
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change();

CREATE TRIGGER audit_cosignatures_no_truncate
  BEFORE TRUNCATE ON audit_cosignatures
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_refuse_change();

CREATE TABLE audit_witness_status (
  origin        text        NOT NULL,
  node_id       uuid        NOT NULL REFERENCES nodes (id),
  refusal_code  text        NOT NULL,
  refusal_text  text        NOT NULL,
  tree_size     bigint      NOT NULL,
  refused_at    timestamptz NOT NULL,
  CONSTRAINT audit_witness_status_pkey PRIMARY KEY (origin, node_id)
);
