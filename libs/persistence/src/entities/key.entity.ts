import { EntitySchema } from 'typeorm';
import type { KeyMember, KeyRecord } from '#domain';
import { integer, jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { NodeEntity } from './node.entity.js';

/** A key without its members (they live in key_members). */
export type KeyRow = Omit<KeyRecord, 'members'>;
export type KeyMemberRow = KeyMember & { keyId: string };

export const KeyEntity = new EntitySchema<KeyRow>({
  name: 'Key',
  tableName: 'keys',
  columns: {
    id: primaryUuid('keys'),
    suite: text('suite'),
    threshold: integer('threshold'),
    maxSigners: integer('max_signers'),
    groupPublicKey: text('group_public_key'),
    publicPackage: jsonb('public_package'),
    status: text('status'),
    origin: text('origin'),
    createdAt: timestamptz('created_at'),
  },
  checks: [
    { name: 'keys_status_check', expression: `status IN ('active', 'retired')` },
    { name: 'keys_signers_check', expression: 'threshold >= 1 AND max_signers >= threshold' },
  ],
});

export const KeyMemberEntity = new EntitySchema<KeyMemberRow>({
  name: 'KeyMember',
  tableName: 'key_members',
  columns: {
    keyId: { ...uuid('key_id'), primary: true, primaryKeyConstraintName: 'key_members_pkey' },
    nodeId: { ...uuid('node_id'), primary: true, primaryKeyConstraintName: 'key_members_pkey' },
    identifier: text('identifier'),
    verifyingShare: text('verifying_share'),
  },
  uniques: [{ name: 'key_members_key_id_identifier_key', columns: ['keyId', 'identifier'] }],
  foreignKeys: [
    { name: 'key_members_key_id_fkey', target: KeyEntity, columnNames: ['keyId'], referencedColumnNames: ['id'] },
    { name: 'key_members_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
  ],
  indices: [{ name: 'key_members_node_id_idx', columns: ['nodeId'] }],
});
