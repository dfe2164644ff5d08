import type { NodeResponse } from '#api';
import type { NodeRecord } from '#domain';

export const toNodeDto = (node: NodeRecord, connected: boolean): NodeResponse => ({
  id: node.id,
  label: node.label,
  publicKey: node.publicKey,
  status: node.status,
  connected,
  createdAt: node.createdAt.toISOString(),
  revokedAt: node.revokedAt?.toISOString() ?? null,
  lastSeenAt: node.lastSeenAt?.toISOString() ?? null,
  policyHash: node.policyHash,
  policyReportedAt: node.policyReportedAt?.toISOString() ?? null,
});
