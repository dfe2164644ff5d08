-- API principals: who may call the REST API besides the bootstrap admin token, and in which role.
-- The API key itself is never stored: only its SHA-256 (hex), looked up through the unique index.
CREATE TABLE principals (
  id           uuid        NOT NULL,
  name         text        NOT NULL,
  role         text        NOT NULL,
  api_key_hash text        NOT NULL,
  created_at   timestamptz NOT NULL,
  -- Who created it: `admin` (the bootstrap token) or `principal:<id>`.
  created_by   text        NOT NULL,
  revoked_at   timestamptz,
  CONSTRAINT principals_pkey PRIMARY KEY (id),
  CONSTRAINT principals_name_key UNIQUE (name),
  CONSTRAINT principals_api_key_hash_key UNIQUE (api_key_hash),
  CONSTRAINT principals_role_check CHECK (role IN ('admin', 'proposer', 'auditor'))
);

-- Audit entries a principal causes name it (actor kind `principal`, actor id the principal's id).
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_kind_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_kind_check CHECK (actor_kind IN ('admin', 'principal', 'node', 'system'));
