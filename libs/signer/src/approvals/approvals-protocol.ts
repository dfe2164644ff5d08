import { z } from 'zod';
import { EpochMs, Intent, SignedDecision, SuiteId, Text, Uuid, hexBytes, hexUpTo } from '#protocol';
import { GrantDecided, GrantDetail, GrantItem, GrantRevoked } from '../grants/grant-protocol.js';

/**
 * The operator's approvals channel: the tiny JSON protocol between a running node (the server, on a
 * UNIX socket in its keystore directory) and `signer approvals ...` (the client), defined once here
 * and parsed on both ends. One request per connection, as one line of JSON; one response line back.
 */

/** Largest request or response line, in bytes (an intent is at most 40 KiB; a list carries no intents). */
export const MAX_APPROVALS_LINE_BYTES = 1024 * 1024;

export const APPROVAL_STATES = ['awaiting', 'approved', 'rejected', 'expired'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** What the policy said when it handed the proposal to the operator (`ask`). */
export const AskedEvaluation = z.strictObject({
  outcome: z.literal('ask'),
  rule: Text(200).nullable(),
  reason: Text(500),
  policyHash: hexBytes(32),
});

/**
 * One entry of the queue, as stored (encrypted) in `approvals/<requestId>.json`: the proposal as the
 * node checked it (intent hash and digest recomputed by the node), the policy's `ask`, and once the
 * operator decided, the signed decision (the answer to every later proposal of the same request).
 */
export const ApprovalRecord = z.strictObject({
  version: z.literal(1),
  requestId: Uuid,
  suite: SuiteId,
  threshold: z.number().int().min(1),
  intent: Intent,
  intentHash: hexBytes(32),
  digest: hexUpTo(64 * 1024),
  evaluation: AskedEvaluation,
  receivedAt: EpochMs,
  decision: SignedDecision.nullable(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;

/** A line of `signer approvals list` for a request (a grant's is a GrantItem, kind `grant`). */
export const ApprovalItem = z.strictObject({
  kind: z.literal('request'),
  requestId: Uuid,
  state: z.enum(APPROVAL_STATES),
  keyId: Uuid,
  /** One line: kind, chain and description (libs/intent `summaryLine`). */
  summary: z.string(),
  intentHash: hexBytes(32),
  deadline: EpochMs,
  receivedAt: EpochMs,
  rule: Text(200).nullable(),
  reason: Text(500),
});
export type ApprovalItem = z.infer<typeof ApprovalItem>;

const SummaryField = z.strictObject({ label: z.string(), value: z.string() });

/** `signer approvals show`: the item, the decoded summary and raw hashes, the intent, and the decision if any. */
export const ApprovalDetail = z.strictObject({
  ...ApprovalItem.shape,
  headline: z.string(),
  blind: z.boolean(),
  fields: z.array(SummaryField),
  hashes: z.strictObject({
    intentHash: z.string(),
    digest: z.string(),
    domainSeparator: z.string().optional(),
    structHash: z.string().optional(),
  }),
  suite: SuiteId,
  threshold: z.number().int(),
  policyHash: hexBytes(32),
  intent: Intent,
  decision: SignedDecision.nullable(),
});
export type ApprovalDetail = z.infer<typeof ApprovalDetail>;

export const ApprovalsRequest = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('list') }),
  z.strictObject({ op: z.literal('show'), id: Uuid }),
  z.strictObject({ op: z.literal('approve'), id: Uuid }),
  z.strictObject({ op: z.literal('reject'), id: Uuid, reason: Text(400).min(1) }),
  z.strictObject({ op: z.literal('grants.list') }),
  z.strictObject({ op: z.literal('grants.show'), id: Uuid }),
  z.strictObject({ op: z.literal('grants.revoke'), id: Uuid, reason: Text(400).min(1) }),
]);
export type ApprovalsRequest = z.infer<typeof ApprovalsRequest>;

export const APPROVALS_ERROR_CODES = [
  /** No approval with this id is queued on the node. */
  'APPROVAL_NOT_FOUND',
  /** The coordinator closed or cancelled the request: there is nothing left to decide. */
  'APPROVAL_CLOSED',
  /** The intent's deadline has passed. */
  'APPROVAL_EXPIRED',
  /** The operator already decided on it. */
  'APPROVAL_DECIDED',
  /** The node could not record the decision or sign it. */
  'APPROVAL_FAILED',
  /** The request line was not a valid request. */
  'BAD_REQUEST',
  /** No grant with this id was proposed to the node. */
  'GRANT_NOT_FOUND',
  /** The grant is revoked (already, when revoking again). */
  'GRANT_REVOKED',
] as const;
export type ApprovalsErrorCode = (typeof APPROVALS_ERROR_CODES)[number];

/** The outcome of approve / reject: the decision signed, and whether it reached the coordinator now. */
export const ApprovalDecided = z.strictObject({
  approval: ApprovalItem,
  decision: SignedDecision,
  /** False when the node is not connected: the coordinator gets the decision when it proposes the request again. */
  sent: z.boolean(),
});
export type ApprovalDecided = z.infer<typeof ApprovalDecided>;

export const ApprovalsError = z.strictObject({ ok: z.literal(false), code: z.enum(APPROVALS_ERROR_CODES), message: z.string() });
export type ApprovalsError = z.infer<typeof ApprovalsError>;

/** The response schema for each request: what the client parses, and what the server must produce. */
/** Approve / reject of either kind: a request's or a grant's signed decision. */
const Decided = z.union([z.strictObject({ ok: z.literal(true), ...ApprovalDecided.shape }), z.strictObject({ ok: z.literal(true), ...GrantDecided.shape })]);

export const ApprovalsResponses = {
  list: z.union([z.strictObject({ ok: z.literal(true), approvals: z.array(z.discriminatedUnion('kind', [ApprovalItem, GrantItem])) }), ApprovalsError]),
  show: z.union([z.strictObject({ ok: z.literal(true), approval: z.discriminatedUnion('kind', [ApprovalDetail, GrantDetail]) }), ApprovalsError]),
  approve: z.union([Decided, ApprovalsError]),
  reject: z.union([Decided, ApprovalsError]),
  'grants.list': z.union([z.strictObject({ ok: z.literal(true), grants: z.array(GrantItem) }), ApprovalsError]),
  'grants.show': z.union([z.strictObject({ ok: z.literal(true), grant: GrantDetail }), ApprovalsError]),
  'grants.revoke': z.union([z.strictObject({ ok: z.literal(true), ...GrantRevoked.shape }), ApprovalsError]),
} as const;
export type ApprovalsResponse<Op extends ApprovalsRequest['op']> = z.infer<(typeof ApprovalsResponses)[Op]>;
export type AnyApprovalsResponse = ApprovalsResponse<ApprovalsRequest['op']>;

/** An operator action the node refused, with its channel error code. */
export class ApprovalsRefusal extends Error {
  override readonly name = 'ApprovalsRefusal';
  constructor(
    readonly code: ApprovalsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
