import { CEREMONY_ROUND_MS, type CeremonyResponse, type CeremonyStatus as ApiCeremonyStatus } from '#api';
import { MAX_CEREMONY_ROUND_MS, MIN_CEREMONY_ROUND_MS, type CeremonyStatus, type CeremonyView } from '#domain';
import type { Assert, Same } from '../common/contract.js';

export type _CeremonyStatusesAgree = Assert<Same<CeremonyStatus, ApiCeremonyStatus>>;
export type _CeremonyRoundLimitsAgree = Assert<
  Same<[typeof MIN_CEREMONY_ROUND_MS, typeof MAX_CEREMONY_ROUND_MS], [(typeof CEREMONY_ROUND_MS)['min'], (typeof CEREMONY_ROUND_MS)['max']]>
>;

/** Public data only: round-2 shares are sealed and never leave the database through the API. */
export const toCeremonyDto = ({ ceremony, round1Received, round2Received, resultsReceived }: CeremonyView): CeremonyResponse => ({
  id: ceremony.id,
  keyId: ceremony.keyId,
  suite: ceremony.suite,
  threshold: ceremony.threshold,
  status: ceremony.status,
  participants: ceremony.participants.map((p) => ({ nodeId: p.nodeId, identifier: p.identifier, identityKey: p.identityKey })),
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
