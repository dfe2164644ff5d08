import { EntitySchema } from 'typeorm';
import type { GrantDecisionRecord, GrantNonceRecord, GrantRecord } from '#domain';
import { jsonb, primaryUuid, text, timestamptz, uuid } from './column-options.js';
import { nodeDecisionChecks, nodeDecisionColumns } from './node-decision-columns.js';
import { KeyEntity } from './key.entity.js';
import { NodeEntity } from './node.entity.js';
import { SigningRequestEntity } from './signing-request.entity.js';

/** A grant as stored (migration 0008): `grant` is free-form JSON to TypeORM; the repository re-validates it. */
export interface GrantRow extends Omit<GrantRecord, 'grant'> {
  grant: Record<string, unknown>;
}

export const GrantEntity = new EntitySchema<GrantRow>({
  name: 'Grant',
  tableName: 'grants',
  columns: {
    id: primaryUuid('grants'),
    keyId: uuid('key_id'),
    grant: jsonb('grant'),
    grantHash: text('grant_hash'),
    status: text('status'),
    proposer: text('proposer'),
    createdAt: timestamptz('created_at'),
    activatedAt: timestamptz('activated_at', true),
    revokedAt: timestamptz('revoked_at', true),
    revokedBy: text('revoked_by', true),
    revokeReason: text('revoke_reason', true),
    validUntil: timestamptz('valid_until'),
  },
  foreignKeys: [{ name: 'grants_key_id_fkey', target: KeyEntity, columnNames: ['keyId'], referencedColumnNames: ['id'] }],
  checks: [
    { name: 'grants_status_check', expression: `status IN ('proposed', 'active', 'rejected', 'revoked', 'expired')` },
    { name: 'grants_revoked_check', expression: `(status = 'revoked') = (revoked_at IS NOT NULL)` },
  ],
  indices: [
    { name: 'grants_key_id_idx', columns: ['keyId', 'createdAt'] },
    { name: 'grants_proposer_idx', columns: ['proposer', 'createdAt'] },
    { name: 'grants_status_idx', columns: ['status', 'createdAt'] },
  ],
});

export const GrantDecisionEntity = new EntitySchema<GrantDecisionRecord>({
  name: 'GrantDecision',
  tableName: 'grant_decisions',
  columns: {
    grantId: { ...uuid('grant_id'), primary: true, primaryKeyConstraintName: 'grant_decisions_pkey' },
    ...nodeDecisionColumns('grant_decisions'),
  },
  foreignKeys: [
    { name: 'grant_decisions_grant_id_fkey', target: GrantEntity, columnNames: ['grantId'], referencedColumnNames: ['id'] },
    { name: 'grant_decisions_node_id_fkey', target: NodeEntity, columnNames: ['nodeId'], referencedColumnNames: ['id'] },
  ],
  checks: [
    ...nodeDecisionChecks('grant_decisions'),
  ],
});

/** A nonce row as stored: the authorization is free-form JSON to TypeORM. */
export interface GrantNonceRow extends Omit<GrantNonceRecord, 'authorization'> {
  authorization: Record<string, unknown>;
}

export const GrantNonceEntity = new EntitySchema<GrantNonceRow>({
  name: 'GrantNonce',
  tableName: 'grant_nonces',
  columns: {
    grantId: { ...uuid('grant_id'), primary: true, primaryKeyConstraintName: 'grant_nonces_pkey' },
    nonce: { ...text('nonce'), primary: true, primaryKeyConstraintName: 'grant_nonces_pkey' },
    requestId: uuid('request_id'),
    authorization: jsonb('agent_authorization'),
    receivedAt: timestamptz('received_at'),
  },
  uniques: [{ name: 'grant_nonces_request_id_key', columns: ['requestId'] }],
  foreignKeys: [
    { name: 'grant_nonces_grant_id_fkey', target: GrantEntity, columnNames: ['grantId'], referencedColumnNames: ['id'] },
    { name: 'grant_nonces_request_id_fkey', target: SigningRequestEntity, columnNames: ['requestId'], referencedColumnNames: ['id'] },
  ],
});
