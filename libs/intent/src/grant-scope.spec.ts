import { describe, expect, it } from 'vitest';
import type { Grant, GrantRefusal, Intent } from '#protocol';
import { checkScope, type CountedRequest } from './grant-scope.js';
import { ALICE, BOB, DAI, DAY, GRANT_KEY, MALLORY, MINUTE, OTHER_KEY, T0, USDC, counted, grant, intent, transfer } from './testing/grant-fixtures.js';

/** The scope semantics as tables: every rule inside and outside its limit, in the documented order. */

const NOW = T0 + 10 * DAY + 12 * 3600_000;
const ok = intent(transfer());
const textIntent = (over: Partial<Intent> = {}): Intent => intent({ kind: 'text', text: 'hello' }, over);
const noLimits = { perRequest: undefined, budgets: undefined, maxRequests: undefined, rateLimit: undefined };

interface Case {
  name: string;
  grant?: Grant;
  intent?: Intent;
  counted?: CountedRequest[];
  now?: number;
  want: GrantRefusal | 'ok';
}

function run(cases: Case[]): void {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const verdict = checkScope(c.grant ?? grant(), c.intent ?? ok, c.counted ?? [], c.now ?? NOW);
    if (c.want === 'ok') expect(verdict).toEqual({ ok: true });
    else {
      expect(verdict).toMatchObject({ ok: false, code: c.want });
      // A reason is carried in a signed decision's `reason` (at most 500 characters).
      if (!verdict.ok) {
        expect(verdict.reason.length).toBeGreaterThan(10);
        expect(verdict.reason.length).toBeLessThanOrEqual(500);
      }
    }
  });
}

describe('checkScope: validity window [validAfter, validUntil)', () => {
  const g = grant({}, { validAfter: T0 + DAY, validUntil: T0 + 2 * DAY });
  run([
    { name: 'at validAfter: valid', grant: g, now: T0 + DAY, want: 'ok' },
    { name: 'a ms before validAfter', grant: g, now: T0 + DAY - 1, want: 'GRANT_NOT_YET_VALID' },
    { name: 'a ms before validUntil: valid', grant: g, now: T0 + 2 * DAY - 1, want: 'ok' },
    { name: 'at validUntil: expired', grant: g, now: T0 + 2 * DAY, want: 'GRANT_EXPIRED' },
    { name: 'expired comes before every other rule', grant: g, now: T0 + 3 * DAY, intent: textIntent({ keyId: OTHER_KEY }), want: 'GRANT_EXPIRED' },
  ]);
});

describe('checkScope: key, kind, chain', () => {
  run([
    { name: 'another key', intent: intent(transfer(), { keyId: OTHER_KEY }), want: 'KEY_NOT_ALLOWED' },
    { name: 'the key spelt in upper case', intent: intent(transfer(), { keyId: GRANT_KEY.toUpperCase() }), want: 'ok' },
    { name: 'deny by default: a kind not listed (text)', intent: textIntent(), want: 'KIND_NOT_ALLOWED' },
    { name: 'deny by default: a kind not listed (digest)', intent: intent({ kind: 'digest', hex: 'ab'.repeat(32), hash: 'sha256' }), want: 'KIND_NOT_ALLOWED' },
    { name: 'a kind listed', grant: grant({ kinds: ['text'], ...noLimits, fields: undefined }), intent: textIntent(), want: 'ok' },
    { name: 'a chain not listed', intent: intent(transfer({ domainChainId: 137 })), want: 'CHAIN_NOT_ALLOWED' },
    { name: 'no chain id under a grant naming chains', intent: intent(transfer(), { chainId: null }), want: 'CHAIN_NOT_ALLOWED' },
    { name: "a chain id that is not the domain's", intent: intent(transfer({ domainChainId: 137 }), { chainId: 1 }), want: 'CHAIN_NOT_ALLOWED' },
    { name: 'one of several chains', grant: grant({ chainIds: [137, 1] }), want: 'ok' },
    { name: 'any chain when chainIds is not given', grant: grant({ chainIds: undefined }), intent: intent(transfer({ domainChainId: 137 })), want: 'ok' },
    {
      name: 'a text payload without chain id when chainIds is not given',
      grant: grant({ kinds: ['text'], chainIds: undefined, ...noLimits, fields: undefined }),
      intent: textIntent({ chainId: null }),
      want: 'ok',
    },
    {
      name: 'a text payload without chain id under a grant naming chains',
      grant: grant({ kinds: ['text'], ...noLimits, fields: undefined }),
      intent: textIntent({ chainId: null }),
      want: 'CHAIN_NOT_ALLOWED',
    },
    { name: 'chain comes before domain', intent: intent(transfer({ domainChainId: 5, token: DAI })), want: 'CHAIN_NOT_ALLOWED' },
  ]);
});

describe('checkScope: EIP-712 domains and primary types (deny by default)', () => {
  run([
    { name: 'eip712 under a grant without domains', grant: grant({ domains: undefined }), want: 'DOMAIN_NOT_ALLOWED' },
    { name: 'another verifying contract', intent: intent(transfer({ token: DAI })), want: 'DOMAIN_NOT_ALLOWED' },
    { name: 'the verifying contract in lower case', intent: intent(transfer({ token: USDC.toLowerCase() })), want: 'ok' },
    { name: 'the grant domain in upper case', grant: grant({ domains: [{ name: 'USD Coin', verifyingContract: '0x' + USDC.slice(2).toUpperCase() }] }), want: 'ok' },
    { name: 'another name at the same contract', intent: intent(transfer({ name: 'USD Coin ' })), want: 'DOMAIN_NOT_ALLOWED' },
    { name: 'a version the grant names differs', grant: grant({ domains: [{ name: 'USD Coin', version: '1', verifyingContract: USDC }] }), want: 'DOMAIN_NOT_ALLOWED' },
    { name: 'the version the grant names', grant: grant({ domains: [{ version: '2', verifyingContract: USDC }] }), want: 'ok' },
    { name: 'a grant domain naming no field matches nothing', grant: grant({ domains: [{}] }), want: 'DOMAIN_NOT_ALLOWED' },
    {
      name: 'one of several domains',
      grant: grant({ domains: [{ verifyingContract: DAI }, { name: 'USD Coin', verifyingContract: USDC }] }),
      want: 'ok',
    },
    { name: 'eip712 under a grant without primary types', grant: grant({ primaryTypes: undefined }), want: 'TYPE_NOT_ALLOWED' },
    { name: 'a primary type not listed', intent: intent(transfer({ primaryType: 'Permit' })), want: 'TYPE_NOT_ALLOWED' },
    { name: 'one of several primary types', grant: grant({ primaryTypes: ['Permit', 'Transfer'] }), want: 'ok' },
  ]);
});

describe('checkScope: field constraints (fail closed)', () => {
  const onTo = (c: object) => grant({ fields: [{ path: 'to', ...c }] });
  run([
    { name: '`to` in the list', want: 'ok' },
    { name: '`to` in the list, other letter case', grant: onTo({ in: [`0x${'ABCDEF12'.repeat(5)}`] }), intent: intent(transfer({ to: `0x${'abcdef12'.repeat(5)}` })), want: 'ok' },
    { name: '`to` not in the list', intent: intent(transfer({ to: MALLORY })), want: 'FIELD_NOT_ALLOWED' },
    { name: '`to` eq', grant: onTo({ eq: ALICE, in: undefined }), want: 'ok' },
    { name: '`to` not eq', grant: onTo({ eq: BOB }), want: 'FIELD_NOT_ALLOWED' },
    { name: '`to` is not an address', intent: intent(transfer({ to: 'alice' })), want: 'FIELD_NOT_ALLOWED' },
    { name: 'a field the types do not declare', grant: grant({ fields: [{ path: 'memo', eq: 'rent' }] }), want: 'FIELD_NOT_ALLOWED' },
    { name: 'a declared field missing from the message', grant: grant({ fields: [{ path: 'value', lte: '100' }] }), intent: intent(transfer({ noValue: true })), want: 'FIELD_NOT_ALLOWED' },
    { name: '`value` lte at the bound', grant: grant({ fields: [{ path: 'value', lte: '100' }] }), want: 'ok' },
    { name: '`value` lte over the bound', grant: grant({ fields: [{ path: 'value', lte: '99' }] }), want: 'FIELD_NOT_ALLOWED' },
    { name: '`value` gte under the bound', grant: grant({ fields: [{ path: 'value', gte: '101' }] }), want: 'FIELD_NOT_ALLOWED' },
    { name: '`value` in a range', grant: grant({ fields: [{ path: 'value', gte: '100', lte: '100' }] }), want: 'ok' },
    { name: 'an order on an address cannot be evaluated', grant: grant({ fields: [{ path: 'to', lte: '5' }] }), want: 'FIELD_NOT_ALLOWED' },
    { name: 'an unparsable integer', grant: grant({ fields: [{ path: 'value', lte: '100' }], ...noLimits }), intent: intent(transfer({ value: '1e3' })), want: 'FIELD_NOT_ALLOWED' },
    {
      name: 'a payload without typed fields under field constraints',
      grant: grant({ kinds: ['text', 'eip712'], ...noLimits }),
      intent: textIntent(),
      want: 'FIELD_NOT_ALLOWED',
    },
    { name: 'an empty constraint list constrains nothing', grant: grant({ fields: [] }), intent: intent(transfer({ to: MALLORY })), want: 'ok' },
  ]);
});

describe('checkScope: per-request limit (bigint, fail closed)', () => {
  const huge = (2n ** 256n - 1n).toString();
  const only = (max: string) => grant({ ...noLimits, perRequest: { amountField: 'value', max } });
  run([
    { name: 'at the limit', intent: intent(transfer({ value: '1000' })), want: 'ok' },
    { name: 'one over the limit', intent: intent(transfer({ value: '1001' })), want: 'OVER_REQUEST_LIMIT' },
    { name: 'a number value at the limit', intent: intent(transfer({ value: 1000 })), want: 'ok' },
    { name: 'beyond 2^53, under a bigger limit', grant: only(huge), intent: intent(transfer({ value: (2n ** 255n).toString() })), want: 'ok' },
    { name: 'just over a limit beyond 2^53', grant: only('9007199254740993'), intent: intent(transfer({ value: '9007199254740994' })), want: 'OVER_REQUEST_LIMIT' },
    { name: 'an unparsable amount', intent: intent(transfer({ value: '12.5' })), want: 'OVER_REQUEST_LIMIT' },
    { name: 'a negative amount', intent: intent(transfer({ value: '-1' })), want: 'OVER_REQUEST_LIMIT' },
    { name: 'a missing amount', intent: intent(transfer({ noValue: true })), want: 'OVER_REQUEST_LIMIT' },
    { name: 'an amount field that is not an integer', grant: grant({ perRequest: { amountField: 'to', max: '1' } }), want: 'OVER_REQUEST_LIMIT' },
    {
      name: 'a payload without typed fields',
      grant: grant({ kinds: ['text'], fields: undefined, budgets: undefined }),
      intent: textIntent(),
      want: 'OVER_REQUEST_LIMIT',
    },
    { name: 'per request comes before the budget', intent: intent(transfer({ value: '1001' })), counted: [counted(NOW - 2 * MINUTE, '5000')], want: 'OVER_REQUEST_LIMIT' },
  ]);
});

describe('checkScope: budgets per asset per period', () => {
  const DAY10 = T0 + 10 * DAY;
  const at = (ms: number, value: string, token?: string) => counted(ms, value, token ? { token } : {});
  const v = (value: string) => intent(transfer({ value }));
  const usdcAndDai = grant({ domains: [{ verifyingContract: USDC }, { verifyingContract: DAI }], perRequest: undefined });
  run([
    { name: 'room left: 4000 spent + 1000', intent: v('1000'), counted: [at(DAY10, '1000'), at(DAY10 + 1, '1000'), at(DAY10 + 2, '1000'), at(DAY10 + 3, '1000')], want: 'ok' },
    { name: 'exactly exhausted: 5000 spent + 1', intent: v('1'), counted: [at(DAY10, '1000'), at(DAY10 + 1, '1000'), at(DAY10 + 2, '1000'), at(DAY10 + 3, '1000'), at(DAY10 + 4, '1000')], want: 'OVER_BUDGET' },
    { name: 'over: 4500 spent + 1000', intent: v('1000'), counted: [at(DAY10, '1000'), at(DAY10 + 1, '1000'), at(DAY10 + 2, '1000'), at(DAY10 + 3, '1000'), at(DAY10 + 4, '500')], want: 'OVER_BUDGET' },
    { name: 'spent in the previous period (last ms) does not count', now: DAY10, intent: v('1000'), counted: Array.from({ length: 5 }, (_, i) => at(DAY10 - 1 - i * MINUTE, '1000')), want: 'ok' },
    { name: 'spent at the first ms of the period counts', now: DAY10 + 5 * MINUTE, intent: v('1000'), counted: Array.from({ length: 5 }, (_, i) => at(DAY10 + i, '1000')), want: 'OVER_BUDGET' },
    { name: 'the last ms of a period is in it', now: DAY10 + DAY - 1, intent: v('1000'), counted: Array.from({ length: 5 }, (_, i) => at(DAY10 + i * MINUTE, '1000')), want: 'OVER_BUDGET' },
    { name: 'spent at the first ms of the next period (a clock set back) is not this period', now: DAY10 + DAY - 1, intent: v('1000'), counted: Array.from({ length: 4 }, () => at(DAY10 + DAY, '1250')), want: 'ok' },
    { name: 'another asset spent does not count', grant: usdcAndDai, intent: v('1000'), counted: Array.from({ length: 5 }, (_, i) => at(DAY10 + i * MINUTE, '1000', DAI)), want: 'ok' },
    { name: 'a contract no budget covers', grant: usdcAndDai, intent: intent(transfer({ token: DAI })), want: 'OVER_BUDGET' },
    { name: 'a payload no budget covers (text)', grant: grant({ kinds: ['text'], fields: undefined, perRequest: undefined }), intent: textIntent(), want: 'OVER_BUDGET' },
    { name: 'an empty budget list covers nothing', grant: grant({ budgets: [] }), want: 'OVER_BUDGET' },
    { name: 'no budgets given: no budget rule', grant: grant({ budgets: undefined, domains: [{ verifyingContract: DAI }] }), intent: intent(transfer({ token: DAI })), want: 'ok' },
    { name: 'a missing amount', grant: grant({ perRequest: undefined }), intent: intent(transfer({ noValue: true })), want: 'OVER_BUDGET' },
    { name: 'an unparsable amount', grant: grant({ perRequest: undefined }), intent: intent(transfer({ value: 'lots' })), want: 'OVER_BUDGET' },
    { name: 'before the budget starts nothing may be spent', grant: grant({ budgets: [{ asset: USDC, amountField: 'value', amount: '5000', periodMs: DAY, start: NOW + 1 }] }), want: 'OVER_BUDGET' },
    { name: 'at the budget start', grant: grant({ budgets: [{ asset: USDC, amountField: 'value', amount: '5000', periodMs: DAY, start: NOW }] }), want: 'ok' },
    {
      name: 'every budget on the asset must have room (a weekly one spent)',
      grant: grant({
        budgets: [
          { asset: USDC, amountField: 'value', amount: '5000', periodMs: DAY, start: T0 },
          { asset: USDC, amountField: 'value', amount: '3000', periodMs: 7 * DAY, start: T0 + 7 * DAY },
        ],
      }),
      intent: v('1000'),
      counted: [at(DAY10 - DAY, '1000'), at(DAY10 - DAY + 1, '1000'), at(DAY10, '500')],
      want: 'OVER_BUDGET',
    },
    {
      name: 'bigint sums beyond 2^53, one over',
      grant: grant({ perRequest: undefined, budgets: [{ asset: USDC, amountField: 'value', amount: '18014398509481985', periodMs: DAY, start: T0 }] }),
      intent: v('9007199254740993'),
      counted: [at(DAY10, '9007199254740993')],
      want: 'OVER_BUDGET',
    },
    {
      name: 'bigint sums beyond 2^53, at the budget',
      grant: grant({ perRequest: undefined, budgets: [{ asset: USDC, amountField: 'value', amount: '18014398509481986', periodMs: DAY, start: T0 }] }),
      intent: v('9007199254740993'),
      counted: [at(DAY10, '9007199254740993')],
      want: 'ok',
    },
  ]);
});

describe('checkScope: max requests and the rolling rate window', () => {
  const spread = (k: number) => Array.from({ length: k }, (_, i) => counted(NOW - 10 * MINUTE - i * MINUTE, '1'));
  const rate = (...ago: number[]) => ago.map((a) => counted(NOW - a, '1'));
  run([
    { name: '19 of 20 made', counted: spread(19), want: 'ok' },
    { name: '20 of 20 made', counted: spread(20), want: 'OVER_MAX_REQUESTS' },
    { name: 'max requests counts every period', counted: [...spread(15), ...Array.from({ length: 5 }, (_, i) => counted(T0 + i * MINUTE, '1'))], want: 'OVER_MAX_REQUESTS' },
    { name: '4 in the last minute', counted: rate(1, 2, 3, MINUTE - 1), want: 'ok' },
    { name: '5 in the last minute', counted: rate(1, 2, 3, 4, MINUTE - 1), want: 'RATE_LIMITED' },
    { name: 'one counted exactly intervalMs ago has left the window', counted: rate(1, 2, 3, 4, MINUTE), want: 'ok' },
    { name: 'one counted in the future (a clock set back) stays in the window', counted: rate(1, 2, 3, 4, -5 * MINUTE), want: 'RATE_LIMITED' },
    { name: 'max requests comes before the rate', counted: [...spread(15), ...rate(1, 2, 3, 4, 5)], want: 'OVER_MAX_REQUESTS' },
    { name: 'the budget comes before the rate', intent: intent(transfer({ value: '1000' })), counted: rate(1, 2, 3, 4, 5).map((c, i) => (i === 0 ? counted(c.at, '4500') : c)), want: 'OVER_BUDGET' },
    { name: 'no limits: nothing counted matters', grant: grant(noLimits), counted: spread(1000), want: 'ok' },
  ]);
});
