import { EntitySchema } from 'typeorm';
import type { PrincipalRecord } from '#domain';
import { primaryUuid, text, timestamptz } from './column-options.js';

/** An API principal (migration 0007): its key only as a SHA-256 hash, looked up through a unique index. */
export const PrincipalEntity = new EntitySchema<PrincipalRecord>({
  name: 'Principal',
  tableName: 'principals',
  columns: {
    id: primaryUuid('principals'),
    name: text('name'),
    role: text('role'),
    apiKeyHash: text('api_key_hash'),
    createdAt: timestamptz('created_at'),
    createdBy: text('created_by'),
    revokedAt: timestamptz('revoked_at', true),
  },
  uniques: [
    { name: 'principals_name_key', columns: ['name'] },
    { name: 'principals_api_key_hash_key', columns: ['apiKeyHash'] },
  ],
  checks: [{ name: 'principals_role_check', expression: `role IN ('admin', 'proposer', 'auditor')` }],
});
