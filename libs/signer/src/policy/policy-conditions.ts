import type { Intent, TypedData } from '#protocol';
import { YES, checkField, no, readAddress, shown, unknown, type Check } from './policy-fields.js';
import type { DomainMatch, Rule, RuleMatch } from './policy-schema.js';
import { describeWindow, inWindow } from './policy-time.js';

/**
 * One function per match condition, each answering yes / no / unknown for an intent (see
 * policy-evaluate.ts for how the answers combine). A condition that needs data the intent does not
 * have (typed data on a text payload, a chain id on an intent without one) answers `unknown`.
 */

/** Answers whether a request keeps a named velocity limit (the ledger, see velocity-ledger.ts). */
export type LimitCheck = (limitId: string) => Check;

/** A rule with its patterns compiled once, when the policy loads. */
export interface CompiledRule {
  rule: Rule;
  description?: RegExp;
  messageText?: RegExp;
  messageHex?: RegExp;
}

export function compileRule(rule: Rule): CompiledRule {
  const m = rule.match;
  return {
    rule,
    ...(m.description !== undefined ? { description: new RegExp(m.description) } : {}),
    ...(m.message?.text !== undefined ? { messageText: new RegExp(m.message.text) } : {}),
    ...(m.message?.hex !== undefined ? { messageHex: new RegExp(m.message.hex) } : {}),
  };
}

// `search` always starts at 0 and ignores `lastIndex`, unlike `test` on a /g or /y pattern.
const matches = (pattern: RegExp, text: string): boolean => text.search(pattern) !== -1;

const typedDataOf = (intent: Intent, what: string): TypedData | Check =>
  intent.payload.kind === 'eip712' ? intent.payload.typedData : unknown(`${what} needs EIP-712 typed data; this is a ${intent.payload.kind} payload`);
const isCheck = (v: TypedData | Check): v is Check => 'state' in v;

/** The chain an intent is for: its chainId, or its EIP-712 domain's; unknown when absent or inconsistent. */
function chainOf(intent: Intent): number | Check {
  const domainChain = intent.payload.kind === 'eip712' ? intent.payload.typedData.domain.chainId : undefined;
  if (intent.chainId !== null && domainChain !== undefined && intent.chainId !== domainChain) {
    return unknown(`the intent's chain id ${intent.chainId} is not its EIP-712 domain's ${domainChain}`);
  }
  return intent.chainId ?? domainChain ?? unknown('the intent names no chain id');
}

function checkDomain(intent: Intent, want: DomainMatch): Check {
  const td = typedDataOf(intent, 'an EIP-712 domain condition');
  if (isCheck(td)) return td;
  const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);
  const keys = [
    ['name', want.name, false],
    ['version', want.version, false],
    ['verifyingContract', want.verifyingContract, true],
  ] as const;
  for (const [key, expected, caseless] of keys) {
    if (expected === undefined) continue;
    const actual = td.domain[key];
    if (actual === undefined) return unknown(`the EIP-712 domain has no ${key}`);
    const norm = (s: string) => (caseless ? s.toLowerCase() : s);
    if (!list(expected).map(norm).includes(norm(actual))) {
      return no(`domain.${key} is ${shown(actual)}, not ${list(expected).map(shown).join(' or ')}`);
    }
  }
  return YES;
}

function checkMessage(c: CompiledRule, intent: Intent): Check {
  const p = intent.payload;
  if (c.messageText) {
    const text = p.kind === 'text' ? p.text : p.kind === 'eip191' && typeof p.message === 'string' ? p.message : undefined;
    if (text === undefined) return unknown(`the message text pattern applies to text messages; this is a ${describeKind(intent)}`);
    return matches(c.messageText, text) ? YES : no(`the message text does not match /${c.messageText.source}/`);
  }
  if (c.messageHex) {
    const hex = p.kind === 'bytes' ? p.hex : p.kind === 'eip191' && typeof p.message !== 'string' ? p.message.hex.slice(2).toLowerCase() : undefined;
    if (hex === undefined) return unknown(`the message hex pattern applies to byte messages; this is a ${describeKind(intent)}`);
    return matches(c.messageHex, hex) ? YES : no(`the message hex does not match /${c.messageHex.source}/`);
  }
  return YES;
}

const describeKind = (intent: Intent): string => {
  const p = intent.payload;
  if (p.kind !== 'eip191') return `${p.kind} payload`;
  return typeof p.message === 'string' ? 'EIP-191 text message' : 'EIP-191 byte message';
};

/** Every condition of a rule's match, in a fixed order, with what each answered. */
export function checkConditions(c: CompiledRule, intent: Intent, now: number, limits: LimitCheck): Check[] {
  const m: RuleMatch = c.rule.match;
  const checks: Check[] = [];
  if (m.keyIds) {
    const key = intent.keyId.toLowerCase();
    checks.push(m.keyIds.includes(key) ? YES : no(`key ${key} is not one of the rule's keys`));
  }
  if (m.kinds) checks.push(m.kinds.includes(intent.payload.kind) ? YES : no(`payload kind ${intent.payload.kind} is not ${m.kinds.join(' or ')}`));
  if (m.chainIds) {
    const chain = chainOf(intent);
    checks.push(typeof chain !== 'number' ? chain : m.chainIds.includes(chain) ? YES : no(`chain id ${chain} is not ${m.chainIds.join(' or ')}`));
  }
  if (m.domain) checks.push(checkDomain(intent, m.domain));
  if (m.primaryTypes) {
    const td = typedDataOf(intent, 'a primary type condition');
    checks.push(isCheck(td) ? td : m.primaryTypes.includes(td.primaryType) ? YES : no(`primary type ${td.primaryType} is not ${m.primaryTypes.join(' or ')}`));
  }
  for (const field of m.fields ?? []) {
    const td = typedDataOf(intent, `a condition on message.${field.path}`);
    checks.push(isCheck(td) ? td : checkField(td, field));
  }
  if (m.recipients) {
    const { field, allow } = m.recipients;
    const td = typedDataOf(intent, 'a recipient allowlist');
    if (isCheck(td)) checks.push(td);
    else {
      const read = readAddress(td, field);
      const allowed = allow.map((a) => a.toLowerCase());
      checks.push(!read.ok ? unknown(read.reason) : allowed.includes(read.address) ? YES : no(`recipient message.${field} ${read.address} is not on the allowlist`));
    }
  }
  if (m.timeWindows) {
    const results = m.timeWindows.map((w) => inWindow(w, now));
    checks.push(
      results.some((r) => r.inside) ? YES : no(`${results[0]!.at.label} is outside ${m.timeWindows.map(describeWindow).join(' and ')}`),
    );
  }
  if (c.description) {
    checks.push(matches(c.description, intent.description) ? YES : no(`the description does not match /${c.description.source}/`));
  }
  if (c.messageText || c.messageHex) checks.push(checkMessage(c, intent));
  for (const id of m.within ?? []) checks.push(limits(id));
  return checks;
}
