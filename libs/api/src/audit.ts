import { z } from 'zod';
import { ACTOR_KINDS, AUDIT_ACTIONS, LEGACY_AUDIT_ACTIONS, Text, Uuid, hexBytes } from '#protocol';
import { IdParam, Timestamp, TimestampInput } from './common.js';

export const AuditAction = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditAction>;


export const ActorKind = z.enum(ACTOR_KINDS);

/** `GET /v1/audit?...`: filters, and keyset paging with `after` (a `seq`). */
export const AuditQuery = z.strictObject({
  requestId: IdParam.optional(),
  keyId: IdParam.optional(),
  nodeId: IdParam.optional(),
  attemptId: IdParam.optional(),
  action: AuditAction.optional(),
  /** Who acted: the actor's kind, and (exactly) its id (storable text: it reaches the database's comparison). */
  actorKind: ActorKind.optional(),
  actorId: Text(200).min(1).optional(),
  /** Inclusive bounds on `occurredAt`. */
  from: TimestampInput.optional(),
  to: TimestampInput.optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditEntryResponse = z.object({
  seq: z.number().int().min(1),
  id: Uuid,
  occurredAt: Timestamp,
  actor: z.object({ kind: ActorKind, id: z.string() }),
  action: z.enum([...AUDIT_ACTIONS, ...LEGACY_AUDIT_ACTIONS]),
  outcome: z.enum(['success', 'failure']),
  keyId: Uuid.nullable(),
  requestId: Uuid.nullable(),
  attemptId: Uuid.nullable(),
  nodeId: Uuid.nullable(),
  /** Values and hashes, never secrets. */
  details: z.record(z.string(), z.unknown()),
  prevHash: hexBytes(32),
  hash: hexBytes(32),
});
export type AuditEntryResponse = z.infer<typeof AuditEntryResponse>;

/** `GET /v1/audit`: entries in chain order; `nextAfter` is the last `seq` when the page is full, else null. */
export const AuditPageResponse = z.object({
  entries: z.array(AuditEntryResponse),
  nextAfter: z.number().int().nullable(),
});
export type AuditPageResponse = z.infer<typeof AuditPageResponse>;

/** `GET /v1/audit/verify`: the chain recomputed from the first entry. */
export const AuditVerifyResponse = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), checked: z.number().int().min(0), headHash: hexBytes(32) }),
  z.object({
    ok: z.literal(false),
    checked: z.number().int().min(0),
    brokenAt: z.object({ seq: z.number().int(), id: z.string(), reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap']) }),
  }),
]);
export type AuditVerifyResponse = z.infer<typeof AuditVerifyResponse>;
