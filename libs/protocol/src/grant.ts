import { z } from 'zod';
import { ChainId, DECISION_SOURCES, DECISION_VERDICTS, EvmAddress, PAYLOAD_KINDS } from './intent.js';
import { EpochMs, Text, Uuid, hexBytes } from './primitives.js';

/**
 * Session-key grants (issue 10): a team authorizes an automated agent once, inside a scope, to request
 * signatures that nodes approve without asking their operators. The grant is the whole authorization;
 * `grantHash` (libs/intent `grantHash`) covers every field, and nodes sign it when they approve.
 * Deny by default: whatever the scope does not name is refused.
 */

export const GRANT_VERSION = 1 as const;

/** Who may act under the grant: an Ed25519 session key, or an Ethereum address that signs EIP-191 messages. */
export const Grantee = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('ed25519'), publicKey: hexBytes(32) }),
  z.strictObject({ kind: z.literal('eip191'), address: EvmAddress }),
]);
export type Grantee = z.infer<typeof Grantee>;

/** A dotted path into an EIP-712 message through its declared types (`to`, `order.amount`, `items.0.to`). */
export const GrantFieldPath = z
  .string()
  .max(200)
  .regex(/^[A-Za-z_$][A-Za-z0-9_$]*(?:\.(?:[A-Za-z_$][A-Za-z0-9_$]*|\d+))*$/, 'a dotted field path such as `to` or `order.amount`');

/** A non-negative integer as EIP-712 amounts are written: a decimal string of any size. */
export const DecimalAmount = z.string().regex(/^(?:0|[1-9]\d*)$/, 'a non-negative decimal integer string').max(80);

/** A value a field is compared with; text is storable (the grant is kept as jsonb, which refuses NUL). */
const FieldValue = z.union([Text(1000), z.number().int(), z.boolean()]);

/** A constraint on one field of the typed message; every operator given must hold. */
export const GrantFieldConstraint = z
  .strictObject({
    path: GrantFieldPath,
    eq: FieldValue.optional(),
    in: z.array(FieldValue).min(1).max(1000).optional(),
    lte: DecimalAmount.optional(),
    gte: DecimalAmount.optional(),
  })
  .refine((c) => c.eq !== undefined || c.in !== undefined || c.lte !== undefined || c.gte !== undefined, {
    message: 'a field constraint needs eq, in, lte or gte',
  });
export type GrantFieldConstraint = z.infer<typeof GrantFieldConstraint>;

/** An EIP-712 domain the grantee may sign for: every field given must match (addresses case-insensitively). */
export const GrantDomain = z.strictObject({
  name: Text(200).optional(),
  version: Text(100).optional(),
  verifyingContract: EvmAddress.optional(),
});
export type GrantDomain = z.infer<typeof GrantDomain>;

/**
 * A periodic allowance (ERC-7715 / Coinbase spend permissions): at most `amount` of `amountField`,
 * summed over the requests of each period of `periodMs` counted from `start`, for requests whose EIP-712
 * `verifyingContract` is `asset` (the token).
 */
export const GrantBudget = z.strictObject({
  asset: EvmAddress,
  amountField: GrantFieldPath,
  amount: DecimalAmount,
  periodMs: z.number().int().positive().max(366 * 24 * 3600 * 1000),
  start: EpochMs,
});
export type GrantBudget = z.infer<typeof GrantBudget>;

export const GrantScope = z.strictObject({
  /** Payload kinds the grantee may request; required (deny by default). */
  kinds: z.array(z.enum(PAYLOAD_KINDS)).min(1),
  /** Chain ids a request may carry; a request with a chain id not listed (or none, when this is given) is refused. */
  chainIds: z.array(ChainId).min(1).max(100).optional(),
  /** EIP-712 domains a typed request may be for; required for `eip712` (Porto: name the verifying contracts). */
  domains: z.array(GrantDomain).min(1).max(100).optional(),
  /** EIP-712 primary types a typed request may have; required for `eip712`. */
  primaryTypes: z.array(Text(200).min(1)).min(1).max(100).optional(),
  /** Constraints on the typed message's fields. */
  fields: z.array(GrantFieldConstraint).max(100).optional(),
  /** The per-request amount limit: `amountField` of one request at most `max`. */
  perRequest: z.strictObject({ amountField: GrantFieldPath, max: DecimalAmount }).optional(),
  budgets: z.array(GrantBudget).max(20).optional(),
  /** Most requests over the grant's life. */
  maxRequests: z.number().int().positive().max(1_000_000).optional(),
  /** At most `count` requests in any rolling `intervalMs`. */
  rateLimit: z.strictObject({ count: z.number().int().positive().max(1_000_000), intervalMs: z.number().int().positive().max(366 * 24 * 3600 * 1000) }).optional(),
});
export type GrantScope = z.infer<typeof GrantScope>;

/** The grant in canonical form: what `grantHash` covers and every node approves. */
export const Grant = z.strictObject({
  version: z.literal(GRANT_VERSION),
  id: Uuid,
  keyId: Uuid,
  grantee: Grantee,
  label: Text(200).min(1),
  validAfter: EpochMs,
  validUntil: EpochMs,
  scope: GrantScope,
  /** The principal that proposed it (`admin` or `principal:<id>`). */
  proposer: Text(200).min(1),
});
export type Grant = z.infer<typeof Grant>;

/** A node's signed decision on a grant (Ed25519 by its identity key over libs/intent `grantDecisionTranscript`). */
export const SignedGrantDecision = z.strictObject({
  grantId: Uuid,
  grantHash: hexBytes(32),
  verdict: z.enum(DECISION_VERDICTS),
  by: z.enum(DECISION_SOURCES),
  policyHash: hexBytes(32),
  rule: Text(200).nullable(),
  reason: Text(500),
  decidedAt: EpochMs,
  signature: hexBytes(64),
});
export type SignedGrantDecision = z.infer<typeof SignedGrantDecision>;
export type UnsignedGrantDecision = Omit<SignedGrantDecision, 'signature'>;

/**
 * The agent's authorization of one request under a grant: its session key's signature over
 * libs/intent `agentRequestTranscript` (grant id, intent hash, nonce, timestamp). Ed25519 (64 bytes) or
 * an EIP-191 personal_sign signature (65 bytes, r || s || v) for an `eip191` grantee.
 */
export const AgentAuthorization = z.strictObject({
  grantId: Uuid,
  intentHash: hexBytes(32),
  /** Unique per grant: a nonce seen before is a replay. */
  nonce: z.string().regex(/^[0-9a-f]{32,64}$/, '16 to 32 random bytes, hex'),
  /** When the agent signed, ms since the epoch; the coordinator refuses one outside its freshness window. */
  timestamp: EpochMs,
  signature: z.string().regex(/^(?:[0-9a-f]{128}|[0-9a-f]{130})$/, 'an Ed25519 (64-byte) or EIP-191 (65-byte) signature, hex'),
});
export type AgentAuthorization = z.infer<typeof AgentAuthorization>;

/** Why a request under a grant is refused (REST error codes and node decline reasons). */
export const GRANT_REFUSALS = [
  'GRANT_NOT_FOUND',
  'GRANT_NOT_ACTIVE',
  'GRANT_NOT_YET_VALID',
  'GRANT_EXPIRED',
  'GRANT_REVOKED',
  'AGENT_SIGNATURE_INVALID',
  'AGENT_REQUEST_STALE',
  'AGENT_REQUEST_REPLAYED',
  'KEY_NOT_ALLOWED',
  'KIND_NOT_ALLOWED',
  'CHAIN_NOT_ALLOWED',
  'DOMAIN_NOT_ALLOWED',
  'TYPE_NOT_ALLOWED',
  'FIELD_NOT_ALLOWED',
  'OVER_REQUEST_LIMIT',
  'OVER_BUDGET',
  'OVER_MAX_REQUESTS',
  'RATE_LIMITED',
] as const;
export type GrantRefusal = (typeof GRANT_REFUSALS)[number];

export const GRANT_STATUSES = ['proposed', 'active', 'rejected', 'revoked', 'expired'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];
