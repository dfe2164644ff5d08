import { z } from 'zod';
import { EpochMs, Grant, Intent, SignedGrantDecision, Text, Uuid, hexBytes } from '#protocol';

/**
 * The node's session-key grants (issue 10): the record it keeps of each grant proposed to it, and what
 * the operator's channel shows of them (`signer approvals` for grants awaiting a decision, `signer grants`
 * for all of them).
 */

/** A revocation of the grant on this node: by its operator (signed, sent to the coordinator) or by the coordinator. */
export const GrantRevocation = z.strictObject({
  by: z.enum(['operator', 'coordinator']),
  reason: Text(500),
  revokedAt: EpochMs,
  /** The node's identity signature over libs/intent `grantRevocationTranscript` (operator revocations). */
  signature: hexBytes(64).nullable(),
  /** Whether the coordinator acknowledged the node's `grant.revoke` (sent again on every reconnect until it did). */
  reported: z.boolean(),
});
export type GrantRevocation = z.infer<typeof GrantRevocation>;

/** What the node's grant rules said when the grant was proposed. */
export const GrantEvaluation = z.strictObject({
  outcome: z.enum(['allow', 'deny', 'ask']),
  rule: Text(200).nullable(),
  reason: Text(500),
  policyHash: hexBytes(32),
});

/** An agent nonce seen under the grant, with the request it authorized (a second request with it is a replay). */
export const UsedNonce = z.strictObject({ nonce: z.string(), requestId: Uuid, at: EpochMs });

/** A request counted under the grant just before this node's share left (libs/intent `CountedRequest`). */
export const CountedGrantRequest = z.strictObject({ requestId: Uuid, at: EpochMs, intent: Intent });

/**
 * One grant as stored (encrypted) in `grants/<grantId>.json`: the grant as this node received and hashed
 * it (its own copy: requests under the grant are checked against it, never against the proposal's copy),
 * the decision, the revocation, and the node's own counters (nonces and counted requests).
 */
export const GrantRecord = z.strictObject({
  version: z.literal(1),
  grant: Grant,
  grantHash: hexBytes(32),
  evaluation: GrantEvaluation,
  receivedAt: EpochMs,
  decision: SignedGrantDecision.nullable(),
  revocation: GrantRevocation.nullable(),
  nonces: z.array(UsedNonce),
  counted: z.array(CountedGrantRequest),
});
export type GrantRecord = z.infer<typeof GrantRecord>;

export const GRANT_STATES = ['awaiting', 'approved', 'rejected', 'expired', 'revoked'] as const;
export type GrantState = (typeof GRANT_STATES)[number];

/** A line of `signer grants list` (and of `signer approvals list`, kind `grant`). */
export const GrantItem = z.strictObject({
  kind: z.literal('grant'),
  grantId: Uuid,
  state: z.enum(GRANT_STATES),
  keyId: Uuid,
  label: z.string(),
  /** The grantee in plain words: `ed25519 <public key>` or `eip191 <address>`. */
  grantee: z.string(),
  grantHash: hexBytes(32),
  validAfter: EpochMs,
  validUntil: EpochMs,
  receivedAt: EpochMs,
  rule: Text(200).nullable(),
  reason: Text(500),
  /** Requests this node counted under the grant (its share left for each). */
  requests: z.number().int().nonnegative(),
});
export type GrantItem = z.infer<typeof GrantItem>;

/** `signer grants show` / `signer approvals show` of a grant: the scope in plain words, the grant, its decision. */
export const GrantDetail = z.strictObject({
  ...GrantItem.shape,
  /** The scope in plain words (libs/intent `describeScope`). */
  scope: z.array(z.string()),
  policyHash: hexBytes(32),
  grant: Grant,
  decision: SignedGrantDecision.nullable(),
  revocation: GrantRevocation.nullable(),
});
export type GrantDetail = z.infer<typeof GrantDetail>;

/** The outcome of an operator's approve / reject of a grant. */
export const GrantDecided = z.strictObject({
  approval: GrantItem,
  decision: SignedGrantDecision,
  /** False when the node is not connected: the coordinator gets the decision when it proposes the grant again. */
  sent: z.boolean(),
});
export type GrantDecided = z.infer<typeof GrantDecided>;

/** The outcome of `signer grants revoke`: revoked on this node at once; `sent` says whether the coordinator was told now. */
export const GrantRevoked = z.strictObject({
  grant: GrantItem,
  revocation: GrantRevocation,
  sent: z.boolean(),
});
export type GrantRevoked = z.infer<typeof GrantRevoked>;
