import { EntitySchema } from 'typeorm';
import type { AuditCheckpointRecord } from '#domain';
import { bigint, text, timestamptz } from './column-options.js';

/** A signed checkpoint of the audit Merkle tree (migration 0009). */
export const AuditCheckpointEntity = new EntitySchema<AuditCheckpointRecord>({
  name: 'AuditCheckpoint',
  tableName: 'audit_checkpoints',
  columns: {
    origin: { ...text('origin'), primary: true, primaryKeyConstraintName: 'audit_checkpoints_pkey' },
    treeSize: { ...bigint('tree_size'), primary: true, primaryKeyConstraintName: 'audit_checkpoints_pkey' },
    rootHash: text('root_hash'),
    keyName: text('key_name'),
    note: text('note'),
    createdAt: timestamptz('created_at'),
  },
  checks: [{ name: 'audit_checkpoints_tree_size_check', expression: 'tree_size >= 0' }],
  indices: [{ name: 'audit_checkpoints_created_at_idx', columns: ['createdAt'] }],
});
