import type { Intent } from '#protocol';
import { checkConditions, type CompiledRule, type LimitCheck } from './policy-conditions.js';
import type { PolicyOutcome } from './policy-types.js';

/**
 * How a node policy decides (issue 9, section 2):
 *
 * 1. Deny by default: when no rule applies, the verdict is `deny` with rule null.
 * 2. All-match, not first-match: every rule is evaluated, whatever its place in the file, so that the
 *    order of rules cannot hide a deny (a broad allow placed first does not shadow a narrower deny
 *    below it, and reordering a file never changes a verdict).
 * 3. Any applicable `deny` wins over every `ask` and `allow`; an applicable `ask` wins over `allow`.
 *    Among rules of the winning outcome, the first in the file is named as the deciding rule.
 * 4. A rule applies when all its conditions hold. Each condition answers yes, no or unknown
 *    (unknown: it cannot be evaluated: a missing field, an amount that does not parse, a payload
 *    kind without typed data, a corrupt velocity ledger). A `no` anywhere means the rule does not
 *    apply. Otherwise an `unknown` makes an `allow` or `ask` rule NOT apply and a `deny` rule APPLY:
 *    the policy fails closed, so what cannot be read is never allowed and never escapes a deny.
 *    Scope a deny rule with a condition that always evaluates (`kinds`, `keyIds`) if it should not
 *    catch other payload kinds.
 * 5. The evaluation names the deciding rule and gives a reason a human can read (at most 500
 *    characters: it travels in the signed decision).
 */

/** What a rule answered for one intent. */
export interface RuleResult {
  rule: CompiledRule;
  applies: boolean;
  /** Why it does not apply (the first condition that said no, or could not be evaluated). */
  why?: string;
  /** The conditions that could not be evaluated, when a deny rule applies because of them. */
  failedClosed: string[];
}

export interface Decision {
  outcome: PolicyOutcome;
  rule: string | null;
  reason: string;
}

/** The longest reason: SignedDecision.reason is Text(500). */
export const MAX_REASON = 500;

export function ruleResult(rule: CompiledRule, intent: Intent, now: number, limits: LimitCheck): RuleResult {
  const checks = checkConditions(rule, intent, now, limits);
  const refusal = checks.find((c) => c.state === 'no');
  if (refusal && refusal.state === 'no') return { rule, applies: false, why: refusal.reason, failedClosed: [] };
  const unknowns = checks.flatMap((c) => (c.state === 'unknown' ? [c.reason] : []));
  if (unknowns.length === 0) return { rule, applies: true, failedClosed: [] };
  if (rule.rule.outcome === 'deny') return { rule, applies: true, failedClosed: unknowns };
  return { rule, applies: false, why: `cannot be evaluated: ${unknowns[0]}`, failedClosed: [] };
}

const ORDER: PolicyOutcome[] = ['deny', 'ask', 'allow'];

/** Decides on an intent under the compiled rules (in document order). Pure: the ledger is read through `limits`. */
export function decide(rules: readonly CompiledRule[], intent: Intent, now: number, limits: LimitCheck): Decision {
  const results = rules.map((r) => ruleResult(r, intent, now, limits));
  for (const outcome of ORDER) {
    const winner = results.find((r) => r.applies && r.rule.rule.outcome === outcome);
    if (winner) return { outcome, rule: winner.rule.rule.id, reason: clip(reasonFor(winner)) };
  }
  const why = results.map((r) => `rule ${r.rule.rule.id}: ${r.why ?? 'does not apply'}`);
  const head = rules.length === 0 ? 'the policy has no rule: nothing is allowed (deny by default)' : 'no rule applies (deny by default)';
  return { outcome: 'deny', rule: null, reason: clip([head, ...why].join('; ')) };
}

function reasonFor(r: RuleResult): string {
  const { rule } = r.rule;
  const verb = rule.outcome === 'allow' ? 'allowed' : rule.outcome === 'deny' ? 'denied' : 'needs operator approval';
  const text = `${verb} by rule ${rule.id}${rule.description ? `: ${rule.description}` : ''}`;
  return r.failedClosed.length > 0 ? `${text} (applied because it cannot be evaluated, fail closed: ${r.failedClosed.join('; ')})` : text;
}

// eslint-disable-next-line no-control-regex -- finding the NUL character is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes a reason fit SignedDecision.reason (Text(500)): NULs and lone surrogates (which a policy's own
 * strings could hold) become U+FFFD, and it is cut to MAX_REASON UTF-16 units without splitting a pair.
 */
export function clip(reason: string): string {
  const clean = reason.replace(UNSTORABLE, '\uFFFD');
  if (clean.length <= MAX_REASON) return clean;
  let cut = clean.slice(0, MAX_REASON - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
