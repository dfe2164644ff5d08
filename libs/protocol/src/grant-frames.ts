import { z } from 'zod';
import { AgentAuthorization, Grant, SignedGrantDecision } from './grant.js';
import { EpochMs, Text, Uuid, hexBytes } from './primitives.js';

/**
 * Session-key grants between the coordinator and the nodes (issue 10):
 *
 *   coordinator -> node   grant.propose    a proposed grant, whole, with the coordinator's `grantHash` of it
 *   node -> coordinator   grant.decision   the node's signed decision (approve or decline) on the grant
 *   node -> coordinator   grant.awaiting   the node's policy answered `ask`: its operator decides
 *   coordinator -> node   grant.revoked    the grant is revoked for everyone (by an admin, its proposer or a node)
 *   node -> coordinator   grant.revoke     an operator revoked the grant on its node (the kill switch), signed
 *
 * The coordinator acks each node frame (`ack` with `of` its type and `grantId`). A request under a grant
 * is proposed with `request.propose` carrying `grant` (see `RequestGrant`), so each node checks the
 * agent's signature and the scope itself.
 */
const PROTOCOL_VERSION = 1 as const;
const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), type: z.literal(type), ...shape });

/** What `request.propose` carries for a request under a grant. */
export const RequestGrant = z.strictObject({
  grant: Grant,
  grantHash: hexBytes(32),
  authorization: AgentAuthorization,
});
export type RequestGrant = z.infer<typeof RequestGrant>;

// ---------- coordinator -> node ----------

/** A grant to decide on; the node recomputes `grantHash` and refuses a grant whose hash differs. */
export const GrantProposeFrame = frame('grant.propose', {
  grant: Grant,
  grantHash: hexBytes(32),
});
/** The grant is revoked: the node stops signing under it at once. */
export const GrantRevokedFrame = frame('grant.revoked', {
  grantId: Uuid,
  reason: Text(500),
});

// ---------- node -> coordinator ----------

/** The node's signed decision on a grant (verdict `approve` or `decline`). */
export const GrantDecisionFrame = frame('grant.decision', {
  grantId: Uuid,
  decision: SignedGrantDecision,
});
/** The node's grant policy answered `ask`: the grant waits for its operator. */
export const GrantAwaitingFrame = frame('grant.awaiting', {
  grantId: Uuid,
  grantHash: hexBytes(32),
  policyHash: hexBytes(32),
  rule: Text(200).nullable(),
  reason: Text(500),
});
/**
 * An operator revoked the grant on its node. `signature`: Ed25519 by the node's identity key over
 * libs/intent `grantRevocationTranscript` ({grantId, grantHash, reason, revokedAt}).
 */
export const GrantRevokeFrame = frame('grant.revoke', {
  grantId: Uuid,
  reason: Text(500),
  revokedAt: EpochMs,
  signature: hexBytes(64),
});

export type GrantProposeFrame = z.infer<typeof GrantProposeFrame>;
export type GrantRevokedFrame = z.infer<typeof GrantRevokedFrame>;
export type GrantDecisionFrame = z.infer<typeof GrantDecisionFrame>;
export type GrantAwaitingFrame = z.infer<typeof GrantAwaitingFrame>;
export type GrantRevokeFrame = z.infer<typeof GrantRevokeFrame>;
