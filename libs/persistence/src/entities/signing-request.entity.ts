import { EntitySchema } from 'typeorm';
import type { SigningRequestRecord } from '#domain';
import { integer, jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { KeyEntity } from './key.entity.js';

/** The statuses listOpen() returns; the partial index signing_requests_open_idx covers exactly these. */
export const OPEN_REQUEST_STATUSES = ['pending', 'committing', 'signing'] as const;

export const SigningRequestEntity = new EntitySchema<SigningRequestRecord>({
  name: 'SigningRequest',
  tableName: 'signing_requests',
  columns: {
    id: primaryUuid('signing_requests'),
    keyId: uuid('key_id'),
    message: text('message'),
    messageEncoding: text('message_encoding'),
    description: text('description'),
    status: text('status'),
    deadline: timestamptz('deadline'),
    idempotencyKey: text('idempotency_key', true),
    requestHash: text('request_hash'),
    createdBy: text('created_by'),
    createdAt: timestamptz('created_at'),
    updatedAt: timestamptz('updated_at'),
    completedAt: timestamptz('completed_at', true),
    signature: text('signature', true),
    failureCode: text('failure_code', true),
    failureReason: text('failure_reason', true),
    culprits: jsonb('culprits'),
    attemptCount: integer('attempt_count'),
    blamelessRefusals: jsonb('blameless_refusals'),
  },
  uniques: [{ name: 'signing_requests_idempotency_key_key', columns: ['idempotencyKey'] }],
  foreignKeys: [{ name: 'signing_requests_key_id_fkey', target: KeyEntity, columnNames: ['keyId'], referencedColumnNames: ['id'] }],
  checks: [
    { name: 'signing_requests_message_encoding_check', expression: `message_encoding IN ('hex', 'utf8')` },
    {
      name: 'signing_requests_status_check',
      expression: `status IN ('pending', 'committing', 'signing', 'completed', 'failed', 'expired')`,
    },
  ],
  indices: [
    { name: 'signing_requests_open_idx', columns: ['status', 'createdAt'], where: `status IN ('pending', 'committing', 'signing')` },
    { name: 'signing_requests_key_id_idx', columns: ['keyId', 'createdAt'] },
  ],
});
