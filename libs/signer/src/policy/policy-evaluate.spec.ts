import { describe, expect, it } from 'vitest';
import type { Intent } from '#protocol';
import type { Check } from './policy-fields.js';
import { MAX_REASON, clip, decide } from './policy-evaluate.js';
import type { PolicyOutcome } from './policy-types.js';
import { TUESDAY_1030_UTC, USDC, digest, intent, rule, rules, text, transfer } from './policy-test-fixtures.js';

type R = [PolicyOutcome, object, string?];
const keepsEveryLimit = (): Check => ({ state: 'yes' });
const run = (list: R[], subject: Intent, limits = keepsEveryLimit) => decide(rules(...list), subject, TUESDAY_1030_UTC, limits);

const usdc = (value: string) => intent(transfer({ value }));
const small = { kinds: ['eip712'], fields: [{ path: 'value', lte: '1000' }] };
const large = { kinds: ['eip712'], fields: [{ path: 'value', gt: '1000' }] };
const memoDeny = { fields: [{ path: 'memo', eq: 'drain' }] };

describe('policy semantics', () => {
  const rows: [string, R[], Intent, PolicyOutcome, string | null][] = [
    ['no rule at all: deny by default', [], text('x'), 'deny', null],
    ['no rule applies: deny by default', [['allow', small, 'small']], usdc('5000'), 'deny', null],
    ['an applicable allow allows', [['allow', small, 'small']], usdc('5'), 'allow', 'small'],
    ['an applicable ask asks', [['ask', large, 'large']], usdc('5000'), 'ask', 'large'],
    ['ask wins over allow', [['allow', {}, 'all'], ['ask', large, 'large']], usdc('5000'), 'ask', 'large'],
    ['deny wins over allow', [['allow', {}, 'all'], ['deny', large, 'no-large']], usdc('5000'), 'deny', 'no-large'],
    ['deny wins over ask', [['ask', {}, 'all'], ['deny', large, 'no-large']], usdc('5000'), 'deny', 'no-large'],
    ['deny wins whatever its place: deny first', [['deny', large, 'no-large'], ['allow', {}, 'all']], usdc('5000'), 'deny', 'no-large'],
    ['a deny that does not apply does not deny', [['allow', {}, 'all'], ['deny', large, 'no-large']], usdc('5'), 'allow', 'all'],
    ['the first rule of the winning outcome is named', [['allow', {}, 'a1'], ['allow', small, 'a2']], usdc('5'), 'allow', 'a1'],
    ['fail closed: missing field, allow does not apply', [['allow', { fields: [{ path: 'amount', lte: '1' }] }, 'a']], usdc('5'), 'deny', null],
    ['fail closed: missing field, ask does not apply', [['ask', { fields: [{ path: 'amount', lte: '1' }] }, 'q'], ['allow', {}, 'all']], usdc('5'), 'allow', 'all'],
    ['fail closed: missing field, deny applies', [['allow', {}, 'all'], ['deny', { fields: [{ path: 'amount', gt: '1' }] }, 'd']], usdc('5'), 'deny', 'd'],
    ['fail closed: unparsable amount, allow does not apply', [['allow', small, 'small']], usdc('1e3'), 'deny', null],
    ['fail closed: unparsable amount, deny applies', [['allow', {}, 'all'], ['deny', large, 'no-large']], usdc('1e3'), 'deny', 'no-large'],
    ['fail closed: wrong kind, allow does not apply', [['allow', { fields: [{ path: 'value', lte: '1000' }] }, 'a']], text('1'), 'deny', null],
    ['fail closed: wrong kind, deny applies', [['allow', {}, 'all'], ['deny', memoDeny, 'memo']], text('hello'), 'deny', 'memo'],
    ['a deny scoped by kind does not catch other kinds', [['allow', {}, 'all'], ['deny', { kinds: ['eip712'], ...memoDeny }, 'memo']], text('x'), 'allow', 'all'],
    ['a deny scoped to eip712 does not catch a blind digest', [['allow', {}, 'all'], ['deny', large, 'no-large']], digest(), 'allow', 'all'],
    ['fail closed: blind digest, field allow does not apply', [['allow', { fields: [{ path: 'value', lte: '1' }] }, 'a']], digest(), 'deny', null],
  ];
  it.each(rows)('%s', (_name, list, subject, outcome, rule) => {
    expect(run(list, subject)).toMatchObject({ outcome, rule });
  });

  it('the verdict does not depend on the order of the rules', () => {
    const list: R[] = [
      ['allow', {}, 'all'],
      ['ask', large, 'large'],
      ['deny', { domain: { verifyingContract: USDC }, fields: [{ path: 'value', gt: '1000000' }] }, 'huge'],
    ];
    for (const value of ['5', '5000', '5000000']) {
      const forward = run(list, usdc(value));
      const backward = run([...list].reverse(), usdc(value));
      expect(backward).toEqual(forward);
    }
    expect(run(list, usdc('5000000')).rule).toBe('huge');
  });

  const daily = [{ id: 'daily', maxCount: 1, windowMs: 1000, per: 'key' }];
  const answer = (state: Check['state']) => (): Check => (state === 'yes' ? { state } : { state, reason: `ledger says ${state}` });
  it.each([
    ['allow', 'yes', 'allow', 'limited'],
    ['allow', 'no', 'deny', null],
    ['allow', 'unknown', 'deny', null],
    ['deny', 'unknown', 'deny', 'limited'],
    ['deny', 'no', 'allow', 'all'],
  ] as const)('velocity: a %s rule within a limit the ledger answers %s for: %s', (ruleOutcome, ledger, outcome, decidingRule) => {
    const list = [rule(ruleOutcome, { within: ['daily'] }, 'limited', daily), rule('allow', {}, 'all')].filter(
      (r) => ruleOutcome === 'deny' || r.rule.id === 'limited',
    );
    expect(decide(list, text('x'), 0, answer(ledger))).toMatchObject({ outcome, rule: decidingRule });
  });
});

describe('reasons', () => {
  it('names the deciding rule and its description', () => {
    const [r] = rules(['allow', small, 'small']);
    const described = { ...r!, rule: { ...r!.rule, description: 'small USDC transfers' } };
    expect(decide([described], usdc('5'), 0, keepsEveryLimit).reason).toBe('allowed by rule small: small USDC transfers');
  });

  it('says why a deny applied when it failed closed', () => {
    const d = run([['deny', large, 'no-large']], usdc('lots'));
    expect(d.reason).toMatch(/^denied by rule no-large \(applied because it cannot be evaluated, fail closed: message\.value .* "lots"\)$/);
  });

  it('default deny lists why each rule did not apply', () => {
    const d = run([['allow', small, 'small'], ['ask', { chainIds: [10] }, 'optimism']], usdc('5000'));
    expect(d.reason).toBe('no rule applies (deny by default); rule small: message.value is "5000", not ≤ "1000"; rule optimism: chain id 1 is not 10');
    expect(run([], text('x')).reason).toMatch(/no rule: nothing is allowed/);
  });

  it('is cut to 500 characters without splitting a surrogate pair', () => {
    expect(clip('a'.repeat(600))).toHaveLength(MAX_REASON);
    const cut = clip('a'.repeat(MAX_REASON - 2) + '😀'.repeat(10));
    expect(cut.length).toBeLessThanOrEqual(MAX_REASON);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(clip('a\u0000b\uD800c')).toBe('a\uFFFDb\uFFFDc');
    const many = Array.from({ length: 40 }, (_, i): R => ['allow', { chainIds: [10] }, `rule-with-a-long-name-${i}`]);
    expect(run(many, usdc('5')).reason.length).toBeLessThanOrEqual(MAX_REASON);
  });
});
