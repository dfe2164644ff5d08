import { z } from 'zod';
import { CEREMONY_STATUSES, MAX_CEREMONY_ROUND_MS, MIN_CEREMONY_ROUND_MS, type CeremonyView } from '#domain';
import { MAX_CEREMONY_PARTICIPANTS, SuiteId } from '#protocol';

export const StartCeremonyDto = z.strictObject({
  suite: SuiteId,
  threshold: z.number().int().min(2).max(MAX_CEREMONY_PARTICIPANTS),
  /** The participants, in order: the i-th holds identifier i+1. */
  nodeIds: z.array(z.uuid()).min(2).max(MAX_CEREMONY_PARTICIPANTS),
  /** How long each round may take. */
  deadlineMs: z.number().int().min(MIN_CEREMONY_ROUND_MS).max(MAX_CEREMONY_ROUND_MS).optional(),
});

export const ListCeremoniesQuery = z.strictObject({
  status: z.enum(CEREMONY_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Public data only: round-2 shares are sealed and never leave the database through the API. */
export const toCeremonyDto = ({ ceremony, round1Received, round2Received, resultsReceived }: CeremonyView) => ({
  id: ceremony.id,
  keyId: ceremony.keyId,
  suite: ceremony.suite,
  threshold: ceremony.threshold,
  status: ceremony.status,
  participants: ceremony.participants,
  round1Received,
  round2Received,
  resultsReceived,
  transcriptHash: ceremony.transcriptHash,
  failureCode: ceremony.failureCode,
  failureReason: ceremony.failureReason,
  culpritNodeId: ceremony.culpritNodeId,
  culprits: ceremony.culprits,
  deadline: ceremony.deadline.toISOString(),
  roundTimeoutMs: ceremony.roundTimeoutMs,
  createdAt: ceremony.createdAt.toISOString(),
  updatedAt: ceremony.updatedAt.toISOString(),
  completedAt: ceremony.completedAt?.toISOString() ?? null,
});
