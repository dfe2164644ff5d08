import { z } from 'zod';
import { CEREMONY_ROUND_MS, CEREMONY_STATUSES, CeremonyParticipant, Identifier, MAX_CEREMONY_PARTICIPANTS, SuiteId, Uuid, hexBytes } from '#protocol';
import { Timestamp, pageQuery } from './common.js';

export const CeremonyStatus = z.enum(CEREMONY_STATUSES);
export type CeremonyStatus = z.infer<typeof CeremonyStatus>;


/** `POST /v1/ceremonies`. Distinct nodes and threshold <= participants are the service's checks. */
export const StartCeremonyBody = z.strictObject({
  suite: SuiteId,
  threshold: z.number().int().min(2).max(MAX_CEREMONY_PARTICIPANTS),
  /** The participants, in order: the i-th holds identifier i+1. */
  nodeIds: z.array(Uuid).min(2).max(MAX_CEREMONY_PARTICIPANTS),
  /** How long each round may take. */
  deadlineMs: z.number().int().min(CEREMONY_ROUND_MS.min).max(CEREMONY_ROUND_MS.max).optional(),
});
export type StartCeremonyBody = z.infer<typeof StartCeremonyBody>;

/** `GET /v1/ceremonies?status=&limit=&offset=`: newest first. */
export const ListCeremoniesQuery = z.strictObject({
  status: CeremonyStatus.optional(),
  ...pageQuery(500, 50),
});
export type ListCeremoniesQuery = z.infer<typeof ListCeremoniesQuery>;

/** `GET /v1/ceremonies/:id`, `POST /v1/ceremonies`, and each row of the list. Public data only. */
export const CeremonyResponse = z.object({
  id: Uuid,
  /** The id the key gets once the ceremony completes. */
  keyId: Uuid,
  suite: SuiteId,
  threshold: z.number().int(),
  status: CeremonyStatus,
  /** In identifier order. */
  participants: z.array(CeremonyParticipant),
  /** Identifiers whose round-1 package arrived. */
  round1Received: z.array(Identifier),
  /** Identifiers whose round-2 shares arrived. */
  round2Received: z.array(Identifier),
  /** Node ids whose result arrived. */
  resultsReceived: z.array(Uuid),
  /** The transcript hash every participant agreed on (from round 3 on). */
  transcriptHash: hexBytes(32).nullable(),
  failureCode: z.string().nullable(),
  failureReason: z.string().nullable(),
  /** The first of `culprits`. */
  culpritNodeId: Uuid.nullable(),
  culprits: z.array(Uuid),
  /** The current (or last) round's deadline. */
  deadline: Timestamp,
  roundTimeoutMs: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  completedAt: Timestamp.nullable(),
});
export type CeremonyResponse = z.infer<typeof CeremonyResponse>;

export const CeremonyListResponse = z.array(CeremonyResponse);
export type CeremonyListResponse = z.infer<typeof CeremonyListResponse>;
