-- Each participant signs its round-1 transcript hash with its identity key (ceremony.round2), and the
-- coordinator relays every participant's signed hash to every participant (ceremony.round2.all), so that
-- no participant goes on with a round-1 view another participant does not share (docs/protocol.md §13).
-- One signature per sender, repeated on each of its share rows as the transcript hash already is.
-- Rows stored before this migration have none: a ceremony open across the upgrade fails in round 2 or 3.
ALTER TABLE ceremony_round2 ADD COLUMN transcript_signature text;
