-- Web console sessions (/console): a browser signs in once with an API key (or the admin token) and
-- then carries only an httpOnly cookie. The cookie's secret is never stored: the row's id is its
-- SHA-256 (hex), looked up by primary key. The actor is copied at sign-in; a principal's row is still
-- read on every call, so revoking it ends its sessions at once.
CREATE TABLE console_sessions (
  id          text        NOT NULL,
  actor_kind  text        NOT NULL,
  actor_id    text        NOT NULL,
  -- The principal's role at sign-in (`admin` for the bootstrap token).
  actor_role  text        NOT NULL,
  -- Sent back as X-CSRF-Token on every call that changes state (not a secret against the database).
  csrf_token  text        NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  CONSTRAINT console_sessions_pkey PRIMARY KEY (id),
  CONSTRAINT console_sessions_actor_kind_check CHECK (actor_kind IN ('admin', 'principal')),
  CONSTRAINT console_sessions_actor_role_check CHECK (actor_role IN ('admin', 'proposer', 'auditor'))
);
