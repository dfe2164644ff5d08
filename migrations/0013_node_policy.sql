-- Node policy reports (issue 11 §2): the SHA-256 of the policy document a signer node reported (and signed)
-- when it last authenticated, and when. Null until a node first reports one; a node built before the report
-- never does, and a later connection without one leaves the last report in place.
ALTER TABLE nodes ADD COLUMN policy_hash text;
ALTER TABLE nodes ADD COLUMN policy_reported_at timestamptz;
