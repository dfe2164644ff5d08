import { EntitySchema } from 'typeorm';
import type { ConsoleSessionRecord } from '#domain';
import { text, timestamptz } from './column-options.js';

/** A web console session (migration 0012): its id is the SHA-256 of the cookie's secret. */
export const ConsoleSessionEntity = new EntitySchema<ConsoleSessionRecord>({
  name: 'ConsoleSession',
  tableName: 'console_sessions',
  columns: {
    id: { ...text('id'), primary: true, primaryKeyConstraintName: 'console_sessions_pkey' },
    actorKind: text('actor_kind'),
    actorId: text('actor_id'),
    actorRole: text('actor_role'),
    csrfToken: text('csrf_token'),
    createdAt: timestamptz('created_at'),
    expiresAt: timestamptz('expires_at'),
    endedAt: timestamptz('ended_at', true),
  },
  checks: [
    { name: 'console_sessions_actor_kind_check', expression: `actor_kind IN ('admin', 'principal')` },
    { name: 'console_sessions_actor_role_check', expression: `actor_role IN ('admin', 'proposer', 'auditor')` },
  ],
});
