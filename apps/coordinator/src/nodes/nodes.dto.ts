import type { NodeResponse, NodeStatus as ApiNodeStatus } from '#api';
import type { NodeRecord, NodeStatus } from '#domain';
import type { Assert, Same } from '../common/contract.js';

export type _NodeStatusesAgree = Assert<Same<NodeStatus, ApiNodeStatus>>;

export const toNodeDto = (node: NodeRecord, connected: boolean): NodeResponse => ({
  id: node.id,
  label: node.label,
  publicKey: node.publicKey,
  status: node.status,
  connected,
  createdAt: node.createdAt.toISOString(),
  revokedAt: node.revokedAt?.toISOString() ?? null,
  lastSeenAt: node.lastSeenAt?.toISOString() ?? null,
});
