import type { AuditEntryResponse, AuditPageResponse } from '#api';
import type { AuditEntry } from '#domain';

export const toAuditDto = (e: AuditEntry): AuditEntryResponse => ({
  seq: e.seq,
  id: e.id,
  occurredAt: e.occurredAt.toISOString(),
  actor: { kind: e.actorKind, id: e.actorId },
  action: e.action,
  outcome: e.outcome,
  keyId: e.keyId,
  requestId: e.requestId,
  attemptId: e.attemptId,
  nodeId: e.nodeId,
  details: e.details,
  prevHash: e.prevHash,
  hash: e.hash,
});

/** `nextAfter` is the last seq when the page is full (there may be more), else null. */
export const toAuditPage = (entries: AuditEntry[], limit: number): AuditPageResponse => {
  const last = entries[entries.length - 1];
  return { entries: entries.map(toAuditDto), nextAfter: entries.length === limit && last ? last.seq : null };
};
