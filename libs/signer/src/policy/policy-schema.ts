import { z } from 'zod';
import { ChainId, EvmAddress, PAYLOAD_KINDS, Text, Uuid } from '#protocol';

/**
 * The node policy document (issue 9): a typed rule schema, validated by zod and evaluated by our own
 * code (policy-evaluate.ts), not a policy language. Every field is checked when the node starts, so a
 * mistake stops the node naming the field; unknown fields are errors (a misspelt condition must not
 * silently widen a rule).
 *
 * ```yaml
 * version: 1
 * rules:
 *   - id: small-usdc
 *     outcome: allow
 *     match:
 *       kinds: [eip712]
 *       chainIds: [1]
 *       domain: { verifyingContract: "0xA0b8…" }
 *       primaryTypes: [Transfer]
 *       fields: [{ path: value, lte: "1000000000" }]
 *       recipients: { field: to, allow: ["0x1111…"] }
 *       within: [daily-usdc]
 * limits:
 *   - { id: daily-usdc, amountField: value, max: "5000000000", windowMs: 86400000, per: key }
 * ```
 */

/** An id a human can quote: rules and limits are named in evaluations, decisions and logs. */
const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'an id of letters, digits and . _ : - (at most 64)');

/** A dotted path into the EIP-712 message, through its declared types: `to`, `order.maker`, `items.0.amount`. */
export const FieldPath = z
  .string()
  .max(200)
  .regex(/^[A-Za-z_$][A-Za-z0-9_$]*(?:\.(?:[A-Za-z_$][A-Za-z0-9_$]*|\d+))*$/, 'a dotted field path such as `to` or `order.amount`');

/** An integer as EIP-712 amounts are written: a decimal string (any size) or a safe JSON integer. */
export const DecimalInteger = z.union([
  z.string().regex(/^-?(?:0|[1-9]\d*)$/, 'a decimal integer string').max(80),
  z.number().int().refine(Number.isSafeInteger, 'an integer within ±2^53; write larger ones as decimal strings'),
]);
export type DecimalInteger = z.infer<typeof DecimalInteger>;

const NonNegativeDecimal = z.string().regex(/^(?:0|[1-9]\d*)$/, 'a non-negative decimal integer string').max(80);

/** A value a field is compared with for equality: the message field's EIP-712 type says how. */
const Scalar = z.union([z.string().max(1000), z.number().int(), z.boolean()]);
export type Scalar = z.infer<typeof Scalar>;

/** A RegExp source, compiled without flags: it matches anywhere unless anchored with ^ and $. */
export const Pattern = z
  .string()
  .max(1000)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
    }
  });

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1).max(100)]);

export const FIELD_OPERATORS = ['eq', 'ne', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte'] as const;
export type FieldOperator = (typeof FIELD_OPERATORS)[number];

/** A comparison on one message field; several operators in one condition must all hold (a range). */
export const FieldCondition = z
  .strictObject({
    path: FieldPath,
    eq: Scalar.optional(),
    ne: Scalar.optional(),
    in: z.array(Scalar).min(1).max(1000).optional(),
    notIn: z.array(Scalar).min(1).max(1000).optional(),
    lt: DecimalInteger.optional(),
    lte: DecimalInteger.optional(),
    gt: DecimalInteger.optional(),
    gte: DecimalInteger.optional(),
  })
  .refine((c) => FIELD_OPERATORS.some((op) => c[op] !== undefined), {
    message: `a field condition needs an operator: one or more of ${FIELD_OPERATORS.join(', ')}`,
  });
export type FieldCondition = z.infer<typeof FieldCondition>;

export const Recipients = z.strictObject({ field: FieldPath, allow: z.array(EvmAddress).min(1).max(10_000) });

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const ClockTime = z.string().regex(/^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/, 'a time of day HH:MM (00:00 to 24:00)');

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/**
 * A weekly time window: `[from, to)` local time in `timeZone` (default UTC) on the given days (default
 * every day). `from` after `to` wraps past midnight (22:00 to 06:00); `days` is the weekday of the
 * moment being checked.
 */
export const TimeWindow = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional(),
    from: ClockTime,
    to: ClockTime,
    timeZone: z.string().max(100).refine(isTimeZone, 'not a time zone this node knows (an IANA name such as Europe/Paris, or UTC)').optional(),
  })
  .refine((w) => w.from !== w.to, { message: 'from and to are the same time: write 00:00 to 24:00 for a whole day', path: ['to'] })
  .refine((w) => w.from !== '24:00', { message: 'from cannot be 24:00', path: ['from'] });
export type TimeWindow = z.infer<typeof TimeWindow>;

export const DomainMatch = z.strictObject({
  name: oneOrMany(z.string().max(200)).optional(),
  version: oneOrMany(z.string().max(100)).optional(),
  verifyingContract: oneOrMany(EvmAddress).optional(),
});
export type DomainMatch = z.infer<typeof DomainMatch>;

/**
 * How a text or bytes payload is matched, decided by the rule (issue 8), never by the proposal:
 * `text` matches a `text` payload (and an EIP-191 text message) as text; `hex` matches a `bytes`
 * payload (and an EIP-191 `{hex}` message) as lower-case hex without 0x. Any other payload cannot be
 * evaluated by it.
 */
export const MessageMatch = z
  .strictObject({ text: Pattern.optional(), hex: Pattern.optional() })
  .refine((m) => (m.text === undefined) !== (m.hex === undefined), { message: 'give exactly one of text or hex' });
export type MessageMatch = z.infer<typeof MessageMatch>;

/** A rule's conditions: all given must hold. An empty match applies to every request. */
export const RuleMatch = z.strictObject({
  keyIds: z.array(Uuid).min(1).max(1000).optional(),
  kinds: z.array(z.enum(PAYLOAD_KINDS)).min(1).optional(),
  chainIds: z.array(ChainId).min(1).max(1000).optional(),
  domain: DomainMatch.optional(),
  primaryTypes: z.array(z.string().max(200)).min(1).max(100).optional(),
  fields: z.array(FieldCondition).min(1).max(100).optional(),
  recipients: Recipients.optional(),
  timeWindows: z.array(TimeWindow).min(1).max(50).optional(),
  description: Pattern.optional(),
  message: MessageMatch.optional(),
  /** Limit ids: the rule applies only while this request keeps every one of them. */
  within: z.array(Id).min(1).max(20).optional(),
});
export type RuleMatch = z.infer<typeof RuleMatch>;

export const RULE_OUTCOMES = ['allow', 'deny', 'ask'] as const;

export const Rule = z.strictObject({
  id: Id,
  outcome: z.enum(RULE_OUTCOMES),
  description: Text(300).optional(),
  match: RuleMatch,
});
export type Rule = z.infer<typeof Rule>;

/** The largest rolling window a limit may have: a year. */
export const MAX_WINDOW_MS = 366 * 24 * 3600 * 1000;

/**
 * A velocity limit over a rolling window, counted in the node's ledger for every request whose share
 * left the node (whichever rule or operator approved it): at most `maxCount` requests and at most
 * `max` of `amountField` per asset, per key or per (key, recipient).
 */
export const Limit = z
  .strictObject({
    id: Id,
    amountField: FieldPath.optional(),
    /** `verifyingContract` (default): amounts are kept per EIP-712 verifying contract; any other string names one bucket. */
    asset: z.string().min(1).max(100).optional(),
    max: NonNegativeDecimal.optional(),
    maxCount: z.number().int().nonnegative().max(1_000_000).optional(),
    windowMs: z.number().int().positive().max(MAX_WINDOW_MS),
    per: z.enum(['key', 'recipient']),
    recipientField: FieldPath.optional(),
  })
  .superRefine((l, ctx) => {
    if (l.max === undefined && l.maxCount === undefined) ctx.addIssue({ code: 'custom', message: 'a limit needs max (with amountField) or maxCount' });
    if (l.max !== undefined && l.amountField === undefined) ctx.addIssue({ code: 'custom', path: ['amountField'], message: 'max needs amountField: the field it sums' });
    if (l.amountField !== undefined && l.max === undefined) ctx.addIssue({ code: 'custom', path: ['max'], message: 'amountField needs max' });
    if (l.asset !== undefined && l.amountField === undefined) ctx.addIssue({ code: 'custom', path: ['asset'], message: 'asset applies to amounts only: give amountField and max' });
    if (l.per === 'recipient' && l.recipientField === undefined) ctx.addIssue({ code: 'custom', path: ['recipientField'], message: 'per: recipient needs recipientField' });
    if (l.per === 'key' && l.recipientField !== undefined) ctx.addIssue({ code: 'custom', path: ['recipientField'], message: 'recipientField applies to per: recipient only' });
  });
export type Limit = z.infer<typeof Limit>;

/**
 * When a grant rule applies to a proposed session-key grant (issue 10): all conditions given must hold;
 * an empty match applies to every grant.
 */
export const GrantRuleMatch = z.strictObject({
  keyIds: z.array(Uuid).min(1).max(1000).optional(),
  granteeKinds: z.array(z.enum(['ed25519', 'eip191'])).min(1).optional(),
  /** The grant's validity window (validUntil - validAfter) is at most this long. */
  maxValidityMs: z.number().int().positive().max(10 * MAX_WINDOW_MS).optional(),
  /** A RegExp source the grant's label must match (anywhere, unless anchored). */
  label: Pattern.optional(),
});
export type GrantRuleMatch = z.infer<typeof GrantRuleMatch>;

/** A rule on grants: deny by default, deny > ask > allow, like the request rules. */
export const GrantRule = z.strictObject({
  id: Id,
  outcome: z.enum(RULE_OUTCOMES),
  description: Text(300).optional(),
  match: GrantRuleMatch,
});
export type GrantRule = z.infer<typeof GrantRule>;

export const POLICY_DOCUMENT_VERSION = 1 as const;

export const PolicyDocument = z
  .strictObject({
    version: z.literal(POLICY_DOCUMENT_VERSION),
    rules: z.array(Rule).max(1000),
    limits: z.array(Limit).max(100).optional(),
    /** How the node decides on session-key grants; none given: every grant is declined (deny by default). */
    grantRules: z.array(GrantRule).max(1000).optional(),
  })
  .superRefine((doc, ctx) => {
    const ruleIds = new Set<string>();
    doc.rules.forEach((rule, i) => {
      if (ruleIds.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id ${rule.id}` });
      ruleIds.add(rule.id);
    });
    const grantRuleIds = new Set<string>();
    (doc.grantRules ?? []).forEach((rule, i) => {
      if (grantRuleIds.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['grantRules', i, 'id'], message: `duplicate grant rule id ${rule.id}` });
      grantRuleIds.add(rule.id);
    });
    const limitIds = new Set<string>();
    (doc.limits ?? []).forEach((limit, i) => {
      if (limitIds.has(limit.id)) ctx.addIssue({ code: 'custom', path: ['limits', i, 'id'], message: `duplicate limit id ${limit.id}` });
      limitIds.add(limit.id);
    });
    doc.rules.forEach((rule, i) =>
      (rule.match.within ?? []).forEach((id, j) => {
        if (!limitIds.has(id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'match', 'within', j], message: `no limit has id ${id}` });
      }),
    );
  });
export type PolicyDocument = z.infer<typeof PolicyDocument>;
