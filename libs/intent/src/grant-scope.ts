import type { Grant, GrantBudget, GrantDomain, GrantRefusal, GrantScope, Intent, TypedData } from '#protocol';
import { compareField, readAmount } from './typed-fields.js';

/**
 * The grant scope engine (issue 10): the one set of rules by which the coordinator, before it proposes a
 * request under a grant, and every node that approved the grant, before its share leaves, decide whether
 * a request is inside the grant's scope. Pure: each enforcer passes its own copy of the grant, its own
 * list of the requests it has already counted under it, and its own clock.
 *
 * Deny by default. A request is inside the scope only when every rule below holds; the rules are checked
 * in this order and the first that fails gives the refusal:
 *
 *  1. validity (GRANT_NOT_YET_VALID, GRANT_EXPIRED): `validAfter <= now < validUntil`.
 *  2. key (KEY_NOT_ALLOWED): the intent is for the grant's key.
 *  3. kind (KIND_NOT_ALLOWED): the payload kind is listed in `kinds`.
 *  4. chain (CHAIN_NOT_ALLOWED): when `chainIds` is given, the intent's chainId is listed (an intent
 *     without one is refused), and an EIP-712 domain that names a chainId names that same one.
 *  5. domain (DOMAIN_NOT_ALLOWED): an `eip712` request needs the grant to name `domains`, and its domain
 *     to match one of them: every field a grant domain gives (name, version exactly; verifyingContract
 *     case-insensitively) equals the request's; a grant domain that gives no field matches nothing.
 *  6. type (TYPE_NOT_ALLOWED): an `eip712` request needs the grant to name `primaryTypes`, and its
 *     primary type to be one of them.
 *  7. fields (FIELD_NOT_ALLOWED): every constraint of `fields` holds on the typed message (read through
 *     its declared types, typed-fields.ts). A field that is missing, unreadable or not comparable is a
 *     refusal; so is any request without typed data when `fields` names a constraint.
 *  8. per request (OVER_REQUEST_LIMIT): the request's `perRequest.amountField` is at most `max`; a
 *     missing, negative or unparsable amount (or no typed data) is refused.
 *  9. budgets (OVER_BUDGET): when `budgets` is given (even empty), each budget whose `asset` is the
 *     request's EIP-712 `verifyingContract` applies to it, and a request that no budget applies to is
 *     refused (it would spend an asset nobody budgeted). For each budget that applies, the request's
 *     `amountField` must read as a non-negative integer, and the budget's current period must have room
 *     for it: the amounts of the counted requests it applies to whose `at` lies in the period, plus this
 *     one, at most `amount`. Period k covers [start + k*periodMs, start + (k+1)*periodMs); before `start`
 *     nothing may be spent.
 * 10. max requests (OVER_MAX_REQUESTS): fewer than `maxRequests` requests counted so far.
 * 11. rate (RATE_LIMITED): fewer than `rateLimit.count` counted requests with `at > now - intervalMs`
 *     (the rolling window; one counted at `at` leaves it at `at + intervalMs`).
 *
 * The grant's status (proposed, revoked, ...), agent signatures and freshness are the caller's to check
 * (GRANT_NOT_ACTIVE, GRANT_REVOKED, AGENT_*): the scope engine sees only the grant's content.
 * `counted` must not hold the request being checked: a request is checked, then counted (durably, before
 * a share leaves), and a request already counted is not checked again against itself. Amounts are bigint
 * throughout; a counted request whose amount cannot be read counts nothing (it could not have been
 * admitted under the same grant).
 */

/** A request already counted under a grant by whoever enforces it, at the time it was counted. */
export interface CountedRequest {
  requestId: string;
  at: number;
  intent: Intent;
}

export type ScopeVerdict = { ok: true } | { ok: false; code: GrantRefusal; reason: string };

const OK: ScopeVerdict = { ok: true };
const refuse = (code: GrantRefusal, reason: string): ScopeVerdict => ({ ok: false, code, reason });

const typedDataOf = (intent: Intent): TypedData | null => (intent.payload.kind === 'eip712' ? intent.payload.typedData : null);
const sameAddress = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** Is `intent` inside `grant`'s scope, given the requests already counted under it and the time `now`? */
export function checkScope(grant: Grant, intent: Intent, counted: readonly CountedRequest[], now: number): ScopeVerdict {
  const { scope } = grant;
  if (now < grant.validAfter) return refuse('GRANT_NOT_YET_VALID', `the grant is valid from ${iso(grant.validAfter)}`);
  if (now >= grant.validUntil) return refuse('GRANT_EXPIRED', `the grant expired at ${iso(grant.validUntil)}`);
  if (intent.keyId.toLowerCase() !== grant.keyId.toLowerCase()) return refuse('KEY_NOT_ALLOWED', `the grant is for key ${grant.keyId}, not ${intent.keyId}`);
  const kind = intent.payload.kind;
  if (!scope.kinds.includes(kind)) return refuse('KIND_NOT_ALLOWED', `the grant allows ${scope.kinds.join(', ')} payloads, not ${kind}`);
  const td = typedDataOf(intent);

  const chain = checkChain(scope, intent, td);
  if (!chain.ok) return chain;
  if (td) {
    const shape = checkTypedShape(scope, td);
    if (!shape.ok) return shape;
  }
  for (const constraint of scope.fields ?? []) {
    if (!td) return refuse('FIELD_NOT_ALLOWED', `the grant constrains message.${constraint.path}; a ${kind} payload has no typed fields`);
    const check = compareField(td, constraint);
    if (check.state !== 'yes') return refuse('FIELD_NOT_ALLOWED', check.reason);
  }
  if (scope.perRequest) {
    const { amountField, max } = scope.perRequest;
    if (!td) return refuse('OVER_REQUEST_LIMIT', `the grant limits message.${amountField} per request; a ${kind} payload has no amount`);
    const read = readAmount(td, amountField);
    if (!read.ok) return refuse('OVER_REQUEST_LIMIT', read.reason);
    if (read.amount > BigInt(max)) return refuse('OVER_REQUEST_LIMIT', `message.${amountField} is ${read.amount}, more than the ${max} allowed per request`);
  }
  if (scope.budgets) {
    const budgets = scope.budgets.filter((b) => budgetApplies(b, intent));
    if (budgets.length === 0) {
      const contract = td?.domain.verifyingContract;
      return refuse('OVER_BUDGET', `no budget of the grant covers ${contract ? `the contract ${contract}` : `a ${kind} payload without a verifying contract`}`);
    }
    for (const budget of budgets) {
      const verdict = checkBudget(budget, td!, counted, now);
      if (!verdict.ok) return verdict;
    }
  }
  if (scope.maxRequests !== undefined && counted.length >= scope.maxRequests) {
    return refuse('OVER_MAX_REQUESTS', `the grant allows ${scope.maxRequests} requests and ${counted.length} were made`);
  }
  if (scope.rateLimit) {
    const { count, intervalMs } = scope.rateLimit;
    const recent = inWindow(counted, intervalMs, now);
    if (recent.length >= count) {
      const leaves = Math.min(...recent.map((c) => c.at)) + intervalMs;
      return refuse('RATE_LIMITED', `${recent.length} requests in the last ${duration(intervalMs)} (at most ${count}); the next one may come at ${iso(leaves)}`);
    }
  }
  return OK;
}

function checkChain(scope: GrantScope, intent: Intent, td: TypedData | null): ScopeVerdict {
  if (!scope.chainIds) return OK;
  const allowed = scope.chainIds.join(', ');
  if (intent.chainId === null) return refuse('CHAIN_NOT_ALLOWED', `the grant allows chains ${allowed}; the request names no chain`);
  if (!scope.chainIds.includes(intent.chainId)) return refuse('CHAIN_NOT_ALLOWED', `the grant allows chains ${allowed}, not ${intent.chainId}`);
  const domainChain = td?.domain.chainId;
  if (domainChain !== undefined && domainChain !== intent.chainId) {
    return refuse('CHAIN_NOT_ALLOWED', `the request's chain ${intent.chainId} is not its EIP-712 domain's chain ${domainChain}`);
  }
  return OK;
}

function checkTypedShape(scope: GrantScope, td: TypedData): ScopeVerdict {
  if (!scope.domains) return refuse('DOMAIN_NOT_ALLOWED', 'the grant names no EIP-712 domains, so it allows no typed data');
  if (!scope.domains.some((d) => domainMatches(d, td))) {
    const { name, verifyingContract } = td.domain;
    return refuse('DOMAIN_NOT_ALLOWED', `the domain ${name ?? '(no name)'} at ${verifyingContract ?? '(no verifying contract)'} is not one the grant names`);
  }
  if (!scope.primaryTypes) return refuse('TYPE_NOT_ALLOWED', 'the grant names no EIP-712 primary types, so it allows no typed data');
  if (!scope.primaryTypes.includes(td.primaryType)) {
    return refuse('TYPE_NOT_ALLOWED', `the grant allows primary types ${scope.primaryTypes.join(', ')}, not ${td.primaryType}`);
  }
  return OK;
}

/** Every field the grant's domain gives matches; one that gives none matches nothing (deny by default). */
function domainMatches(want: GrantDomain, td: TypedData): boolean {
  const { name, version, verifyingContract } = want;
  if (name === undefined && version === undefined && verifyingContract === undefined) return false;
  if (name !== undefined && td.domain.name !== name) return false;
  if (version !== undefined && td.domain.version !== version) return false;
  if (verifyingContract !== undefined && !sameAddress(td.domain.verifyingContract, verifyingContract)) return false;
  return true;
}

/** A budget applies to a typed request whose verifying contract is its asset. */
const budgetApplies = (budget: GrantBudget, intent: Intent): boolean => sameAddress(typedDataOf(intent)?.domain.verifyingContract, budget.asset);

/** The period of a budget that `now` lies in, or null before the budget starts. */
function periodAt(budget: GrantBudget, now: number): { start: number; end: number } | null {
  if (now < budget.start) return null;
  const k = Math.floor((now - budget.start) / budget.periodMs);
  const start = budget.start + k * budget.periodMs;
  return { start, end: start + budget.periodMs };
}

/** What the counted requests a budget applies to spent in [start, end). */
function spentIn(budget: GrantBudget, counted: readonly CountedRequest[], start: number, end: number): bigint {
  let spent = 0n;
  for (const c of counted) {
    if (c.at < start || c.at >= end || !budgetApplies(budget, c.intent)) continue;
    const read = readAmount(typedDataOf(c.intent)!, budget.amountField);
    if (read.ok) spent += read.amount;
  }
  return spent;
}

function checkBudget(budget: GrantBudget, td: TypedData, counted: readonly CountedRequest[], now: number): ScopeVerdict {
  const read = readAmount(td, budget.amountField);
  if (!read.ok) return refuse('OVER_BUDGET', `the budget of ${budget.asset} cannot count this request: ${read.reason}`);
  const period = periodAt(budget, now);
  if (!period) return refuse('OVER_BUDGET', `the budget of ${budget.asset} starts at ${iso(budget.start)}; nothing may be spent before`);
  const spent = spentIn(budget, counted, period.start, period.end);
  const limit = BigInt(budget.amount);
  if (spent + read.amount > limit) {
    return refuse(
      'OVER_BUDGET',
      `message.${budget.amountField} ${read.amount} would bring ${budget.asset} to ${spent + read.amount} this period (at most ${limit}; ${spent} spent, ${limit > spent ? limit - spent : 0n} left until ${iso(period.end)})`,
    );
  }
  return OK;
}

const inWindow = (counted: readonly CountedRequest[], intervalMs: number, now: number): CountedRequest[] =>
  // A request counted "in the future" (a clock set back) stays in the window: fail closed.
  counted.filter((c) => c.at > now - intervalMs);

// ---------- usage, for views ----------

/** One budget's figures in its current period. Amounts are decimal strings; times are ms since the epoch. */
export interface BudgetUsage {
  asset: string;
  amountField: string;
  /** The budget per period. */
  amount: string;
  periodMs: number;
  /** False before the budget's `start`: nothing may be spent yet, `remaining` is 0 and the period shown is the first. */
  started: boolean;
  spent: string;
  remaining: string;
  periodStart: number;
  periodEnd: number;
}

/** A grant's usage against every limit at `now`, as the enforcer that counted `counted` sees it. Times in ms since the epoch. */
export interface GrantUsage {
  requests: { made: number; max: number | null; remaining: number | null };
  /** Null when the grant has no rate limit. `oldestLeavesAt`: when the oldest request in the window leaves it (null if none is in it). */
  rate: { count: number; limit: number; intervalMs: number; remaining: number; oldestLeavesAt: number | null } | null;
  budgets: BudgetUsage[];
}

export function grantUsage(grant: Grant, counted: readonly CountedRequest[], now: number): GrantUsage {
  const { maxRequests, rateLimit, budgets } = grant.scope;
  const made = counted.length;
  let rate: GrantUsage['rate'] = null;
  if (rateLimit) {
    const recent = inWindow(counted, rateLimit.intervalMs, now);
    const oldestLeavesAt = recent.length > 0 ? Math.min(...recent.map((c) => c.at)) + rateLimit.intervalMs : null;
    rate = { count: recent.length, limit: rateLimit.count, intervalMs: rateLimit.intervalMs, remaining: Math.max(0, rateLimit.count - recent.length), oldestLeavesAt };
  }
  return {
    requests: { made, max: maxRequests ?? null, remaining: maxRequests === undefined ? null : Math.max(0, maxRequests - made) },
    rate,
    budgets: (budgets ?? []).map((b) => budgetUsage(b, counted, now)),
  };
}

function budgetUsage(budget: GrantBudget, counted: readonly CountedRequest[], now: number): BudgetUsage {
  const base = { asset: budget.asset, amountField: budget.amountField, amount: budget.amount, periodMs: budget.periodMs };
  const period = periodAt(budget, now);
  if (!period) return { ...base, started: false, spent: '0', remaining: '0', periodStart: budget.start, periodEnd: budget.start + budget.periodMs };
  const spent = spentIn(budget, counted, period.start, period.end);
  const limit = BigInt(budget.amount);
  return { ...base, started: true, spent: String(spent), remaining: String(limit > spent ? limit - spent : 0n), periodStart: period.start, periodEnd: period.end };
}

// ---------- plain words, for operators ----------

/**
 * The scope in plain words, one line per rule, for `signer approvals show` and the console. Addresses
 * are shown whole: an operator approving a grant compares them, and a lookalike address shares its
 * first and last characters with the real one.
 */
export function describeScope(grant: Grant): string[] {
  const { scope } = grant;
  const lines = [`valid from ${iso(grant.validAfter)} until ${iso(grant.validUntil)}`];
  const g = grant.grantee;
  lines.push(`for key ${grant.keyId}, requested by ${g.kind === 'ed25519' ? `the Ed25519 session key ${g.publicKey}` : `the Ethereum address ${g.address} (EIP-191 signatures)`}`);
  const chains = scope.chainIds ? ` on chain${scope.chainIds.length > 1 ? 's' : ''} ${scope.chainIds.join(', ')}` : ' on any chain';
  lines.push(`may sign ${scope.kinds.join(', ')}${chains}`);
  if (scope.kinds.includes('eip712')) {
    if (!scope.domains || !scope.primaryTypes) {
      lines.push(`no typed data: the grant names no EIP-712 ${scope.domains ? 'primary types' : 'domains'}`);
    } else {
      lines.push(`for ${scope.domains.map(describeDomain).join(' or ')}: ${scope.primaryTypes.join(' or ')} only`);
    }
  }
  for (const c of scope.fields ?? []) {
    const parts: string[] = [];
    if (c.eq !== undefined) parts.push(`is ${String(c.eq)}`);
    if (c.in !== undefined) parts.push(`one of ${c.in.map(String).join(', ')}`);
    if (c.gte !== undefined) parts.push(`at least ${c.gte}`);
    if (c.lte !== undefined) parts.push(`at most ${c.lte}`);
    lines.push(`\`${c.path}\` ${parts.join(' and ')}`);
  }
  if (scope.perRequest) lines.push(`at most ${scope.perRequest.max} in \`${scope.perRequest.amountField}\` per request`);
  if (scope.budgets) {
    for (const b of scope.budgets) {
      lines.push(`at most ${b.amount} in \`${b.amountField}\` of ${b.asset} per ${per(b.periodMs)} from ${iso(b.start)}`);
    }
    lines.push(scope.budgets.length === 0 ? 'an empty budget list: every request is refused' : 'a request no budget covers is refused');
  }
  const counts: string[] = [];
  if (scope.maxRequests !== undefined) counts.push(`at most ${scope.maxRequests} request${scope.maxRequests === 1 ? '' : 's'}`);
  if (scope.rateLimit) counts.push(`at most ${scope.rateLimit.count} per ${per(scope.rateLimit.intervalMs)}`);
  if (counts.length > 0) lines.push(counts.join(', '));
  lines.push('denied: everything else');
  return lines;
}

function describeDomain(d: GrantDomain): string {
  if (d.name === undefined && d.version === undefined && d.verifyingContract === undefined) return '(an empty domain, which matches nothing)';
  const head = [d.name ?? 'any contract', d.version !== undefined ? `version ${d.version}` : ''].filter(Boolean).join(' ');
  return d.verifyingContract ? `${head} (${d.verifyingContract})` : `${head} (any verifying contract)`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const UNITS: readonly [number, string][] = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
];

/** A length of time in the largest whole unit: `2 hours`, `90 seconds`, `1500 ms`. */
function duration(ms: number): string {
  for (const [size, unit] of UNITS) {
    if (ms % size === 0) return `${ms / size} ${unit}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}

/** `per day`, `per 7 days`. */
const per = (ms: number): string => {
  const d = duration(ms);
  return d.startsWith('1 ') ? d.slice(2) : d;
};
