import { EntitySchema } from 'typeorm';
import type { NodeRecord } from '#domain';
import { primaryUuid, text, timestamptz } from './column-options.js';

export const NodeEntity = new EntitySchema<NodeRecord>({
  name: 'Node',
  tableName: 'nodes',
  columns: {
    id: primaryUuid('nodes'),
    label: text('label'),
    publicKey: text('public_key'),
    status: text('status'),
    createdAt: timestamptz('created_at'),
    revokedAt: timestamptz('revoked_at', true),
    lastSeenAt: timestamptz('last_seen_at', true),
    policyHash: text('policy_hash', true),
    policyReportedAt: timestamptz('policy_reported_at', true),
  },
  uniques: [{ name: 'nodes_public_key_key', columns: ['publicKey'] }],
  checks: [{ name: 'nodes_status_check', expression: `status IN ('active', 'revoked')` }],
});
