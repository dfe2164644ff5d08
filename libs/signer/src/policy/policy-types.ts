import type { Grant, Intent } from '#protocol';

/**
 * The contract between a node's policy engine and the rest of the node (issue 9). The engine decides
 * on an intent; the signing service acts on the decision; the approvals queue takes over on `ask`.
 */

/** A rule's outcome, and so an evaluation's verdict: sign, refuse, or let the operator decide. */
export type PolicyOutcome = 'allow' | 'deny' | 'ask';

/** What one evaluation decided and why; recorded on the node and carried in the signed decision. */
export interface PolicyEvaluation {
  outcome: PolicyOutcome;
  /** The id of the rule that decided, or null when none applied (deny by default). */
  rule: string | null;
  reason: string;
  /** SHA-256 (hex) of the policy document as loaded: its version. */
  policyHash: string;
}

/** What the engine is told about the intent besides the intent itself. */
export interface PolicySubject {
  requestId: string;
  intent: Intent;
  /** The node's own hash of the intent (libs/intent `intentHash`). */
  intentHash: string;
}

/** A proposed session-key grant, as the node's grant rules see it (issue 10). */
export interface GrantSubject {
  grant: Grant;
  /** The node's own hash of the grant (libs/intent `grantHash`). */
  grantHash: string;
}

/**
 * Who approved a request whose usage is committed: a rule (the evaluation), the operator by hand, or a
 * session-key grant the node approved (the request was inside its scope).
 */
export type ApprovedBy = PolicyEvaluation | 'operator' | { grantId: string };

/** The answer of `commitUsage`: the share may leave, or the velocity limits no longer allow it. */
export type UsageCommit = { ok: true } | { ok: false; reason: string };

/**
 * A node's loaded policy.
 * - `evaluate` decides on a proposal and records the evaluation durably on the node (its policy log:
 *   time, request, intent hash, policy hash, rule, outcome, reason); it reads the velocity ledger but
 *   does not change it.
 * - `commitUsage` is called just before the node's share for the request leaves: it checks the velocity
 *   limits again (another request may have spent the allowance since the proposal was allowed) and
 *   records what this request spends, durably, once per request (a second call for the same request
 *   is `{ok: true}` and records nothing). `approvedBy` says who approved: a rule (the evaluation) or
 *   the operator by hand, or a grant; an operator's (or a grant's) approval is still counted against
 *   every limit, but it is not refused by one (a grant has its own budgets, checked by the grant store).
 */
export interface NodePolicy {
  readonly policyHash: string;
  /** The policy document as loaded, for `signer approvals` and logs. */
  readonly source: string;
  evaluate(subject: PolicySubject, now: number): Promise<PolicyEvaluation>;
  commitUsage(subject: PolicySubject, now: number, approvedBy: ApprovedBy): Promise<UsageCommit>;
  /** Decides on a proposed grant by the document's `grantRules` (none applies: deny), and logs it. */
  evaluateGrant(subject: GrantSubject, now: number): Promise<PolicyEvaluation>;
}
