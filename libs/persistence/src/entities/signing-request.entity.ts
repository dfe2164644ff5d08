import { EntitySchema } from 'typeorm';
import type { SigningRequestRecord } from '#domain';
import { bigint, integer, jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { KeyEntity } from './key.entity.js';

/** The statuses listOpen() returns; the partial index signing_requests_open_idx covers exactly these. */
export const OPEN_REQUEST_STATUSES = ['pending', 'committing', 'signing'] as const;

/**
 * A request as stored: the record, with fields of its intent repeated as columns for the replay keys and
 * filters (migration 0005). The repository maps rows to records: `intent` comes back from jsonb, which
 * keeps no key order, and is re-validated with the `Intent` schema; its hash is the stored one.
 */
export interface SigningRequestRow extends Omit<SigningRequestRecord, 'intent'> {
  intent: Record<string, unknown>;
  chainId: number | null;
  sequence: number | null;
  note: string;
  payloadKind: string;
  /** When the open request next needs a look (migration 0014); not part of the record. */
  wakeAt?: Date | null;
}

export const SigningRequestEntity = new EntitySchema<SigningRequestRow>({
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
    intent: jsonb('intent'),
    intentHash: text('intent_hash', true),
    proposer: text('proposer'),
    chainId: bigint('chain_id', true),
    sequence: bigint('sequence', true),
    note: text('note'),
    payloadKind: text('payload_kind'),
    grantId: uuid('grant_id', true), // 0008
    wakeAt: timestamptz('wake_at', true), // 0014
  },
  uniques: [{ name: 'signing_requests_idempotency_key_key', columns: ['idempotencyKey'] }],
  foreignKeys: [
    { name: 'signing_requests_key_id_fkey', target: KeyEntity, columnNames: ['keyId'], referencedColumnNames: ['id'] },
    // 0008; the target by name: grants' entity imports this one.
    { name: 'signing_requests_grant_id_fkey', target: 'Grant', columnNames: ['grantId'], referencedColumnNames: ['id'] },
  ],
  checks: [
    { name: 'signing_requests_message_encoding_check', expression: `message_encoding IN ('hex', 'utf8')` },
    {
      name: 'signing_requests_status_check',
      expression: `status IN ('pending', 'committing', 'signing', 'completed', 'failed', 'expired', 'cancelled')`,
    },
    { name: 'signing_requests_payload_kind_check', expression: `payload_kind IN ('text', 'bytes', 'eip191', 'eip712', 'digest')` },
    { name: 'signing_requests_sequence_check', expression: 'sequence >= 0' },
  ],
  indices: [
    { name: 'signing_requests_open_idx', columns: ['status', 'createdAt'], where: `status IN ('pending', 'committing', 'signing')` },
    { name: 'signing_requests_key_id_idx', columns: ['keyId', 'createdAt'] },
    { name: 'signing_requests_proposer_idx', columns: ['proposer', 'createdAt'] },
    { name: 'signing_requests_grant_id_idx', columns: ['grantId', 'createdAt'] }, // 0008
    // 0014: the schedulers' scan for open requests past their deadline or wake-up time.
    { name: 'signing_requests_open_due_idx', columns: ['deadline', 'wakeAt'], where: `status IN ('pending', 'committing', 'signing')` },
    // Replay protection per key (INTENT_ALREADY_SIGNED, SEQUENCE_USED): the repository maps their violations.
    { name: 'signing_requests_key_id_intent_hash_key', columns: ['keyId', 'intentHash'], unique: true, where: 'intent_hash IS NOT NULL' },
    { name: 'signing_requests_key_id_sequence_key', columns: ['keyId', 'sequence'], unique: true, where: 'sequence IS NOT NULL' },
  ],
});
