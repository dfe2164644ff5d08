import { z } from 'zod';
import { NODE_STATUSES, Text, Uuid, hexBytes } from '#protocol';
import { Timestamp } from './common.js';

export const NodeStatus = z.enum(NODE_STATUSES);
export type NodeStatus = z.infer<typeof NodeStatus>;

/** `POST /v1/nodes`. The key's point validity (`isValidIdentityKey`) is the service's check. */
export const EnrollNodeBody = z.strictObject({
  /** The node's Ed25519 identity public key (what `signer init` prints), any letter case. */
  publicKey: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(hexBytes(32)),
  label: z.string().trim().pipe(Text(200).min(1)),
});
export type EnrollNodeBody = z.infer<typeof EnrollNodeBody>;

/** `GET /v1/nodes/:id`, `POST /v1/nodes`, `POST /v1/nodes/:id/revoke`, `POST /v1/nodes/:id/restore`. */
export const NodeResponse = z.object({
  id: Uuid,
  label: z.string(),
  publicKey: hexBytes(32),
  status: NodeStatus,
  /** Whether the node holds an authenticated connection right now. */
  connected: z.boolean(),
  createdAt: Timestamp,
  /** When it was last revoked; null while it is active (a restored node is active again). */
  revokedAt: Timestamp.nullable(),
  lastSeenAt: Timestamp.nullable(),
  /**
   * SHA-256 (hex) of the policy document the node reported, signed, when it last authenticated with one;
   * null until it first does (a node built before the report never does). Informational: the node's own
   * account of its policy, which the coordinator cannot check.
   */
  policyHash: hexBytes(32).nullable(),
  /** When the node last reported `policyHash` (earlier than `lastSeenAt` if it later connected without one). */
  policyReportedAt: Timestamp.nullable(),
});
export type NodeResponse = z.infer<typeof NodeResponse>;

/** `GET /v1/nodes`: in enrollment order. */
export const NodeListResponse = z.array(NodeResponse);
export type NodeListResponse = z.infer<typeof NodeListResponse>;
