import { z } from 'zod';
import {
  AgentAuthorization,
  ChainId,
  GRANT_STATUSES,
  Grant,
  GrantScope,
  Grantee,
  REQUEST_STATUSES,
  SignedGrantDecision,
  Text,
  Uuid,
  hexBytes,
} from '#protocol';
import { IdParam, Timestamp, TimestampInput, pageQuery } from './common.js';
import { PayloadInput } from './signing-requests.js';

export const GrantStatus = z.enum(GRANT_STATUSES);
export type GrantStatus = z.infer<typeof GrantStatus>;

/** A time of a grant as a client may write it: ISO-8601 (with `Z` or an offset) or ms since the epoch. */
export const GrantTimeInput = z.union([
  TimestampInput.transform((s) => Date.parse(s)),
  z.number().int().nonnegative().max(8_640_000_000_000_000),
]);

/**
 * `POST /v1/grants` (admin or proposer): the coordinator assigns the id and the proposer, builds the
 * canonical `Grant` and proposes it to every member node of the key. `validAfter` defaults to now.
 */
export const CreateGrantBody = z.strictObject({
  keyId: Uuid,
  grantee: Grantee,
  label: Text(200).min(1),
  validAfter: GrantTimeInput.optional(),
  validUntil: GrantTimeInput,
  scope: GrantScope,
});
export type CreateGrantBody = z.output<typeof CreateGrantBody>;
export type CreateGrantInput = z.input<typeof CreateGrantBody>;

/** `GET /v1/grants?status=&keyId=&limit=&offset=`: newest first (a proposer sees its own). */
export const ListGrantsQuery = z.strictObject({
  status: GrantStatus.optional(),
  keyId: IdParam.optional(),
  ...pageQuery(500, 50),
});
export type ListGrantsQuery = z.infer<typeof ListGrantsQuery>;

/** `POST /v1/grants/:id/revoke`. */
export const RevokeGrantBody = z.strictObject({ reason: Text(500).min(1).optional() });
export type RevokeGrantBody = z.infer<typeof RevokeGrantBody>;

/**
 * `POST /v1/grants/:id/requests` (public: the agent authenticates by its session key's signature over
 * libs/intent `agentRequestText`, whose `intentHash` is the hash of the intent this body makes).
 * Answers 201 with the signing request (`SigningRequestResponse`).
 */
export const CreateGrantRequestBody = z.strictObject({
  payload: PayloadInput,
  description: Text(2000).default(''),
  note: Text(2000).default(''),
  chainId: ChainId.optional(),
  sequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  deadline: TimestampInput.optional(),
  authorization: AgentAuthorization,
});
export type CreateGrantRequestBody = z.output<typeof CreateGrantRequestBody>;
export type CreateGrantRequestInput = z.input<typeof CreateGrantRequestBody>;

/** `pending` (not asked yet), `proposed` (asked, silent), `awaiting_operator`, `approved`, `declined`. */
export const GRANT_APPROVAL_STATES = ['pending', 'proposed', 'awaiting_operator', 'approved', 'declined'] as const;
export const GrantApprovalState = z.enum(GRANT_APPROVAL_STATES);

/** Where one member node of the grant's key stands on it, with its signed decision once it made one. */
export const GrantApprovalResponse = z.object({
  nodeId: Uuid,
  label: z.string(),
  state: GrantApprovalState,
  decision: SignedGrantDecision.nullable(),
  awaiting: z.object({ rule: z.string().nullable(), reason: z.string(), since: Timestamp }).nullable(),
});
export type GrantApprovalResponse = z.infer<typeof GrantApprovalResponse>;

/** One budget's use in its current period (amounts as decimal strings; libs/intent `grantUsage`). */
export const GrantBudgetUsageResponse = z.object({
  asset: z.string(),
  amountField: z.string(),
  /** The budget per period. */
  amount: z.string(),
  periodMs: z.number().int(),
  /** False before the budget's `start`: nothing may be spent yet. */
  started: z.boolean(),
  spent: z.string(),
  remaining: z.string(),
  periodStart: Timestamp,
  periodEnd: Timestamp,
});

/** The grant's use against every limit, from the coordinator's counted requests (not failed, expired, cancelled). */
export const GrantUsageResponse = z.object({
  requests: z.object({ made: z.number().int().nonnegative(), max: z.number().int().nullable(), remaining: z.number().int().nullable() }),
  /** Null without a rate limit; `oldestLeavesAt`: when the oldest request in the window leaves it. */
  rate: z
    .object({ count: z.number().int(), limit: z.number().int(), intervalMs: z.number().int(), remaining: z.number().int(), oldestLeavesAt: Timestamp.nullable() })
    .nullable(),
  budgets: z.array(GrantBudgetUsageResponse),
});
export type GrantUsageResponse = z.infer<typeof GrantUsageResponse>;

/** `GET /v1/grants/:id`, `POST /v1/grants` (201), `POST /v1/grants/:id/revoke`, and each row of the list. */
export const GrantResponse = z.object({
  id: Uuid,
  keyId: Uuid,
  status: GrantStatus,
  /** The canonical grant: what `grantHash` covers and the nodes sign. */
  grant: Grant,
  grantHash: hexBytes(32),
  /** The scope in plain words (libs/intent `describeScope`). */
  scopeText: z.array(z.string()),
  label: z.string(),
  proposer: z.string(),
  validAfter: Timestamp,
  validUntil: Timestamp,
  createdAt: Timestamp,
  activatedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  /** `admin`, `principal:<id>` or `node:<id>`. */
  revokedBy: z.string().nullable(),
  revokeReason: z.string().nullable(),
  /** How many member approvals make it active (the key's threshold), and how many members. */
  threshold: z.number().int(),
  members: z.number().int(),
  /** One per member of the key, in the key's member order. */
  approvals: z.array(GrantApprovalResponse),
  usage: GrantUsageResponse,
  /** The signing requests made under it, newest first. */
  requests: z.array(z.object({ id: Uuid, status: z.enum(REQUEST_STATUSES), createdAt: Timestamp })),
});
export type GrantResponse = z.infer<typeof GrantResponse>;

export const GrantListResponse = z.array(GrantResponse);
export type GrantListResponse = z.infer<typeof GrantListResponse>;
