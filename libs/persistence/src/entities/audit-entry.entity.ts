import { EntitySchema } from 'typeorm';
import type { AuditEntry } from '#domain';
import { bigint, jsonb, text, timestamptz, uuid } from './column-options.js';

/** An audit_log row: the entry plus when the database recorded it (outside the hash). */
export type AuditEntryRow = AuditEntry & { recordedAt: Date };

export const AuditEntryEntity = new EntitySchema<AuditEntryRow>({
  name: 'AuditEntry',
  tableName: 'audit_log',
  columns: {
    seq: { ...bigint('seq'), primary: true, primaryKeyConstraintName: 'audit_log_pkey' },
    id: uuid('id'),
    occurredAt: timestamptz('occurred_at'),
    recordedAt: { ...timestamptz('recorded_at'), default: () => 'now()', insert: false, update: false },
    actorKind: text('actor_kind'),
    actorId: text('actor_id'),
    action: text('action'),
    outcome: text('outcome'),
    // Plain text, no foreign keys: an entry may name something refused or unknown.
    keyId: text('key_id', true),
    requestId: text('request_id', true),
    attemptId: text('attempt_id', true),
    nodeId: text('node_id', true),
    details: jsonb('details'),
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  uniques: [
    { name: 'audit_log_id_key', columns: ['id'] },
    { name: 'audit_log_hash_key', columns: ['hash'] },
    { name: 'audit_log_prev_hash_key', columns: ['prevHash'] },
  ],
  checks: [
    { name: 'audit_log_seq_check', expression: 'seq >= 1' },
    { name: 'audit_log_actor_kind_check', expression: `actor_kind IN ('admin', 'principal', 'node', 'system', 'agent')` }, // 0008
    { name: 'audit_log_outcome_check', expression: `outcome IN ('success', 'failure')` },
  ],
  indices: [
    { name: 'audit_log_request_id_idx', columns: ['requestId', 'seq'] },
    { name: 'audit_log_key_id_idx', columns: ['keyId', 'seq'] },
    { name: 'audit_log_node_id_idx', columns: ['nodeId', 'seq'] },
    { name: 'audit_log_attempt_id_idx', columns: ['attemptId', 'seq'] },
    { name: 'audit_log_action_idx', columns: ['action', 'seq'] },
    { name: 'audit_log_occurred_at_idx', columns: ['occurredAt'] },
  ],
});
