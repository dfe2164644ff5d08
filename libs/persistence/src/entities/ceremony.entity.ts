import { EntitySchema } from 'typeorm';
import type { CeremonyRecord, CeremonyResultRecord, CeremonyShareRecord } from '#domain';
import { integer, jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { NodeEntity } from './node.entity.js';

/** The statuses listOpen() returns; the partial index ceremonies_open_idx covers exactly these. */
export const OPEN_CEREMONY_STATUSES = ['round1', 'round2', 'round3'] as const;

export const CeremonyEntity = new EntitySchema<CeremonyRecord>({
  name: 'Ceremony',
  tableName: 'ceremonies',
  columns: {
    id: primaryUuid('ceremonies'),
    keyId: uuid('key_id'),
    suite: text('suite'),
    threshold: integer('threshold'),
    status: text('status'),
    participants: jsonb('participants'),
    round1: jsonb('round1'),
    transcriptHash: text('transcript_hash', true),
    failureCode: text('failure_code', true),
    failureReason: text('failure_reason', true),
    culpritNodeId: uuid('culprit_node_id', true),
    culprits: jsonb('culprits'),
    deadline: timestamptz('deadline'),
    roundTimeoutMs: integer('round_timeout_ms'),
    createdBy: text('created_by'),
    createdAt: timestamptz('created_at'),
    updatedAt: timestamptz('updated_at'),
    completedAt: timestamptz('completed_at', true),
  },
  uniques: [{ name: 'ceremonies_key_id_key', columns: ['keyId'] }],
  checks: [
    { name: 'ceremonies_status_check', expression: `status IN ('round1', 'round2', 'round3', 'completed', 'failed')` },
    { name: 'ceremonies_threshold_check', expression: 'threshold >= 2' },
  ],
  indices: [
    { name: 'ceremonies_open_idx', columns: ['status', 'createdAt'], where: `status IN ('round1', 'round2', 'round3')` },
    { name: 'ceremonies_created_at_idx', columns: ['createdAt'] },
  ],
});

export const CeremonyRound2Entity = new EntitySchema<CeremonyShareRecord>({
  name: 'CeremonyRound2',
  tableName: 'ceremony_round2',
  columns: {
    ceremonyId: { ...uuid('ceremony_id'), primary: true, primaryKeyConstraintName: 'ceremony_round2_pkey' },
    fromIdentifier: { ...text('from_identifier'), primary: true, primaryKeyConstraintName: 'ceremony_round2_pkey' },
    toIdentifier: { ...text('to_identifier'), primary: true, primaryKeyConstraintName: 'ceremony_round2_pkey' },
    transcriptHash: text('transcript_hash'),
    transcriptSignature: text('transcript_signature', true),
    sealed: jsonb('sealed'),
    receivedAt: timestamptz('received_at'),
  },
  foreignKeys: [
    { name: 'ceremony_round2_ceremony_id_fkey', target: CeremonyEntity, columnNames: ['ceremonyId'], referencedColumnNames: ['id'] },
  ],
});

export const CeremonyResultEntity = new EntitySchema<CeremonyResultRecord>({
  name: 'CeremonyResult',
  tableName: 'ceremony_results',
  columns: {
    ceremonyId: { ...uuid('ceremony_id'), primary: true, primaryKeyConstraintName: 'ceremony_results_pkey' },
    nodeId: { ...uuid('node_id'), primary: true, primaryKeyConstraintName: 'ceremony_results_pkey' },
    result: jsonb('result'),
    receivedAt: timestamptz('received_at'),
  },
  foreignKeys: [
    { name: 'ceremony_results_ceremony_id_fkey', target: CeremonyEntity, columnNames: ['ceremonyId'], referencedColumnNames: ['id'] },
    { name: 'ceremony_results_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
  ],
});
