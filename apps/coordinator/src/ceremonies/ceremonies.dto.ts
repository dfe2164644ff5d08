import type { CeremonyResponse } from '#api';
import type { CeremonyView } from '#domain';

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
