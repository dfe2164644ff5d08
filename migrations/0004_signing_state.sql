-- Signing state the protocol's guarantees depend on, kept in the database rather than in one process.

-- Blameless refusals per node (a restarted node's NONCE_UNKNOWN, ...): a node may make a few per request
-- before it is blamed, and a coordinator restart must not give it more.
ALTER TABLE signing_requests ADD COLUMN blameless_refusals jsonb NOT NULL DEFAULT '{}';
ALTER TABLE signing_requests ALTER COLUMN blameless_refusals DROP DEFAULT;

-- Every nonce element (hiding or binding) a key has ever seen, once: a commitment that repeats an
-- element of an earlier one, in either position (hiding and binding swapped, say), is a reused nonce.
-- CommitmentRepository.insert maps a violation of the primary key to CommitmentReusedError. This
-- replaces the two per-position unique constraints of 0001, which let a swapped pair through.
CREATE TABLE nonce_elements (
  key_id        uuid NOT NULL,
  element       text NOT NULL,
  commitment_id uuid NOT NULL,
  CONSTRAINT nonce_elements_pkey PRIMARY KEY (key_id, element),
  CONSTRAINT nonce_elements_key_id_fkey FOREIGN KEY (key_id) REFERENCES keys (id),
  CONSTRAINT nonce_elements_commitment_id_fkey FOREIGN KEY (commitment_id) REFERENCES commitments (id)
);
INSERT INTO nonce_elements (key_id, element, commitment_id)
  SELECT key_id, hiding, id FROM commitments
  UNION ALL
  SELECT key_id, binding, id FROM commitments
  ON CONFLICT DO NOTHING;
ALTER TABLE commitments DROP CONSTRAINT commitments_key_id_hiding_key;
ALTER TABLE commitments DROP CONSTRAINT commitments_key_id_binding_key;

-- Each event of a request reads its shares at once.
CREATE INDEX signature_shares_request_id_idx ON signature_shares (request_id);
