import type { AuditEntryResponse, AuditExportQuery, AuditPageResponse } from '#api';
import type { AuditEntry, AuditFilter } from '#domain';

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

/** The filters of `GET /v1/audit` and `GET /v1/audit/export`, as the audit service reads them. */
export const auditFilterOf = (q: Omit<AuditExportQuery, 'format'>): Omit<AuditFilter, 'limit' | 'afterSeq'> => ({
  ...(q.requestId ? { requestId: q.requestId } : {}),
  ...(q.keyId ? { keyId: q.keyId } : {}),
  ...(q.nodeId ? { nodeId: q.nodeId } : {}),
  ...(q.attemptId ? { attemptId: q.attemptId } : {}),
  ...(q.action ? { action: q.action } : {}),
  ...(q.actorKind ? { actorKind: q.actorKind } : {}),
  ...(q.actorId ? { actorId: q.actorId } : {}),
  ...(q.from ? { from: new Date(q.from) } : {}),
  ...(q.to ? { to: new Date(q.to) } : {}),
});
