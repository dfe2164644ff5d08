-- Signing intents (issue 9): a request carries its canonical intent (libs/protocol `Intent`) and the
-- intent's hash, and the bytes signed (`message`) are derived from the intent's payload. chain_id,
-- sequence, note and payload_kind repeat fields of the intent as columns for the replay keys and filters.
ALTER TABLE signing_requests
  ADD COLUMN intent       jsonb,
  ADD COLUMN intent_hash  text,
  ADD COLUMN proposer     text,
  ADD COLUMN chain_id     bigint,
  ADD COLUMN sequence     bigint,
  ADD COLUMN note         text,
  ADD COLUMN payload_kind text;

-- Requests made before intents: an intent rebuilt from their message (a text payload for utf8 requests
-- whose bytes are text a jsonb string can hold, a bytes payload otherwise), proposed by the admin token,
-- with no intent hash: nodes now sign only what an intent hash names, so these are never proposed again.
UPDATE signing_requests
   SET payload_kind = CASE
         WHEN message_encoding = 'utf8' AND position('\x00'::bytea IN decode(message, 'hex')) = 0 THEN 'text'
         ELSE 'bytes'
       END,
       proposer = 'admin',
       note = '';
UPDATE signing_requests
   SET intent = jsonb_build_object(
         'version', 1,
         'keyId', key_id::text,
         'payload', CASE payload_kind
           WHEN 'text' THEN jsonb_build_object('kind', 'text', 'text', convert_from(decode(message, 'hex'), 'UTF8'))
           ELSE jsonb_build_object('kind', 'bytes', 'hex', message)
         END,
         'chainId', NULL,
         'sequence', NULL,
         'deadline', (floor(extract(epoch FROM deadline) * 1000))::bigint,
         'proposer', 'admin',
         'description', description,
         'note', ''
       );
UPDATE signing_requests SET message_encoding = 'hex' WHERE payload_kind = 'bytes';

-- Every request still open fails: no node will sign it without an intent hash. Its running attempts end
-- and its unused nonce commitments are burned, as the coordinator does for a failed request.
UPDATE signing_attempts
   SET status = 'aborted', ended_at = now(), failure_reason = 'INTENT_REQUIRED: the request was made before signing intents'
 WHERE status = 'signing'
   AND request_id IN (SELECT id FROM signing_requests WHERE status IN ('pending', 'committing', 'signing'));
UPDATE commitments
   SET status = 'burned'
 WHERE status IN ('ready', 'assigned')
   AND request_id IN (SELECT id FROM signing_requests WHERE status IN ('pending', 'committing', 'signing'));
UPDATE signing_requests
   SET status = 'failed',
       failure_code = 'INTENT_REQUIRED',
       failure_reason = 'made before signing intents (migration 0005): nodes sign only a request whose intent hash they can check',
       completed_at = now(),
       updated_at = now()
 WHERE status IN ('pending', 'committing', 'signing');

ALTER TABLE signing_requests
  ALTER COLUMN intent SET NOT NULL,
  ALTER COLUMN proposer SET NOT NULL,
  ALTER COLUMN note SET NOT NULL,
  ALTER COLUMN payload_kind SET NOT NULL,
  ADD CONSTRAINT signing_requests_payload_kind_check CHECK (payload_kind IN ('text', 'bytes', 'eip191', 'eip712', 'digest')),
  ADD CONSTRAINT signing_requests_sequence_check CHECK (sequence >= 0),
  DROP CONSTRAINT signing_requests_status_check,
  ADD CONSTRAINT signing_requests_status_check
    CHECK (status IN ('pending', 'committing', 'signing', 'completed', 'failed', 'expired', 'cancelled'));

-- Replay protection per key, decided by the database so that coordinator instances cannot both insert:
-- an intent hash at most once (INTENT_ALREADY_SIGNED), a sequence at most once (SEQUENCE_USED).
CREATE UNIQUE INDEX signing_requests_key_id_intent_hash_key ON signing_requests (key_id, intent_hash)
  WHERE intent_hash IS NOT NULL;
CREATE UNIQUE INDEX signing_requests_key_id_sequence_key ON signing_requests (key_id, sequence)
  WHERE sequence IS NOT NULL;
-- A proposer's list of its own requests, newest first.
CREATE INDEX signing_requests_proposer_idx ON signing_requests (proposer, created_at);
