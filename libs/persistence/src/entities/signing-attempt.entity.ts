import { EntitySchema } from 'typeorm';
import type { AttemptRecord } from '#domain';
import { integer, jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { SigningRequestEntity } from './signing-request.entity.js';

export const SigningAttemptEntity = new EntitySchema<AttemptRecord>({
  name: 'SigningAttempt',
  tableName: 'signing_attempts',
  columns: {
    id: primaryUuid('signing_attempts'),
    requestId: uuid('request_id'),
    seq: integer('seq'),
    status: text('status'),
    participants: jsonb('participants'),
    commitments: jsonb('commitments'),
    deadline: timestamptz('deadline'),
    startedAt: timestamptz('started_at'),
    endedAt: timestamptz('ended_at', true),
    failureReason: text('failure_reason', true),
  },
  uniques: [{ name: 'signing_attempts_request_id_seq_key', columns: ['requestId', 'seq'] }],
  foreignKeys: [
    { name: 'signing_attempts_request_id_fkey', target: SigningRequestEntity, columnNames: ['requestId'], referencedColumnNames: ['id'] },
  ],
  checks: [
    { name: 'signing_attempts_status_check', expression: `status IN ('signing', 'completed', 'failed', 'timed_out', 'aborted')` },
  ],
});
