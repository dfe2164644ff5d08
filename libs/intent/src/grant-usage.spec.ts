import { describe, expect, it } from 'vitest';
import { checkScope, describeScope, grantUsage } from './grant-scope.js';
import { ALICE, BOB, DAI, DAY, MINUTE, T0, USDC, counted, grant, intent, transfer } from './testing/grant-fixtures.js';

/** Usage figures for views, and the scope in plain words for operators. */

const DAY3 = T0 + 3 * DAY;

describe('grantUsage', () => {
  it('counts requests, the rate window and the budget of the current period', () => {
    const list = [
      counted(DAY3 - 1, '900'), // the previous period
      counted(DAY3, '1000'),
      counted(DAY3 + 5 * MINUTE, '250', { token: DAI }), // another asset
      counted(DAY3 + 10 * MINUTE, '300'),
      counted(DAY3 + 10 * MINUTE + 20_000, '1'),
    ];
    const now = DAY3 + 10 * MINUTE + 30_000;
    expect(grantUsage(grant(), list, now)).toEqual({
      requests: { made: 5, max: 20, remaining: 15 },
      rate: { count: 2, limit: 5, intervalMs: MINUTE, remaining: 3, oldestLeavesAt: DAY3 + 11 * MINUTE },
      budgets: [
        {
          asset: USDC,
          amountField: 'value',
          amount: '5000',
          periodMs: DAY,
          started: true,
          spent: '1301',
          remaining: '3699',
          periodStart: DAY3,
          periodEnd: DAY3 + DAY,
        },
      ],
    });
  });

  it('agrees with checkScope at the edge of the budget', () => {
    const list = [counted(DAY3, '1000'), counted(DAY3 + 1, '1000'), counted(DAY3 + 2, '1000'), counted(DAY3 + 3, '1000'), counted(DAY3 + 4, '700')];
    const now = DAY3 + 3600_000;
    const usage = grantUsage(grant(), list, now);
    expect(usage.budgets[0]!.remaining).toBe('300');
    expect(checkScope(grant(), intent(transfer({ value: '300' })), list, now)).toEqual({ ok: true });
    expect(checkScope(grant(), intent(transfer({ value: '301' })), list, now)).toMatchObject({ ok: false, code: 'OVER_BUDGET' });
  });

  it('a new period starts with the whole budget', () => {
    const list = Array.from({ length: 5 }, (_, i) => counted(DAY3 + i, '1000'));
    const b = grantUsage(grant(), list, DAY3 + DAY).budgets[0]!;
    expect(b).toMatchObject({ spent: '0', remaining: '5000', periodStart: DAY3 + DAY, periodEnd: DAY3 + 2 * DAY });
    expect(grantUsage(grant(), list, DAY3 + DAY - 1).budgets[0]).toMatchObject({ spent: '5000', remaining: '0', periodStart: DAY3 });
  });

  it('before the budget starts: nothing remains, the first period is shown', () => {
    const g = grant({ budgets: [{ asset: USDC, amountField: 'value', amount: '5000', periodMs: DAY, start: T0 + 7 * DAY }] });
    expect(grantUsage(g, [], T0 + DAY).budgets[0]).toMatchObject({ started: false, spent: '0', remaining: '0', periodStart: T0 + 7 * DAY, periodEnd: T0 + 8 * DAY });
  });

  it('remaining never goes below zero, and amounts beyond 2^53 stay exact', () => {
    const big = '9007199254740993';
    const g = grant({ maxRequests: 1, budgets: [{ asset: USDC, amountField: 'value', amount: big, periodMs: DAY, start: T0 }] });
    const usage = grantUsage(g, [counted(DAY3, big), counted(DAY3 + 1, '5')], DAY3 + 2 * MINUTE);
    expect(usage.requests).toEqual({ made: 2, max: 1, remaining: 0 });
    expect(usage.budgets[0]).toMatchObject({ spent: '9007199254740998', remaining: '0' });
    expect(usage.rate).toMatchObject({ count: 0, oldestLeavesAt: null });
  });

  it('a grant without limits has no figures to show', () => {
    const g = grant({ perRequest: undefined, budgets: undefined, maxRequests: undefined, rateLimit: undefined });
    expect(grantUsage(g, [counted(DAY3)], DAY3)).toEqual({ requests: { made: 1, max: null, remaining: null }, rate: null, budgets: [] });
  });
});

describe('describeScope', () => {
  it('says the whole scope in plain words, ending with deny by default', () => {
    expect(describeScope(grant())).toEqual([
      'valid from 2025-01-01T00:00:00.000Z until 2025-01-31T00:00:00.000Z',
      `for key 3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41, requested by the Ed25519 session key ${'11'.repeat(32)}`,
      'may sign eip712 on chain 1',
      `for USD Coin (${USDC}): Transfer only`,
      `\`to\` one of ${ALICE}, ${BOB}`,
      'at most 1000 in `value` per request',
      `at most 5000 in \`value\` of ${USDC} per day from 2025-01-01T00:00:00.000Z`,
      'a request no budget covers is refused',
      'at most 20 requests, at most 5 per minute',
      'denied: everything else',
    ]);
  });

  it('names what is missing for typed data, other units, ranges and an EIP-191 grantee', () => {
    const g = grant(
      {
        kinds: ['eip712', 'text'],
        chainIds: undefined,
        primaryTypes: undefined,
        domains: [{ name: 'Permit2', version: '1' }],
        fields: [{ path: 'value', gte: '1', lte: '10' }, { path: 'memo', eq: 'rent' }],
        perRequest: undefined,
        budgets: [],
        maxRequests: 1,
        rateLimit: { count: 2, intervalMs: 90_000 },
      },
      { grantee: { kind: 'eip191', address: ALICE } },
    );
    expect(describeScope(g)).toEqual([
      'valid from 2025-01-01T00:00:00.000Z until 2025-01-31T00:00:00.000Z',
      `for key 3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41, requested by the Ethereum address ${ALICE} (EIP-191 signatures)`,
      'may sign eip712, text on any chain',
      'no typed data: the grant names no EIP-712 primary types',
      '`value` at least 1 and at most 10',
      '`memo` is rent',
      'an empty budget list: every request is refused',
      'at most 1 request, at most 2 per 90 seconds',
      'denied: everything else',
    ]);
    expect(describeScope(grant({ domains: undefined, rateLimit: { count: 1, intervalMs: 7 * DAY }, maxRequests: undefined })).slice(3, 4)).toEqual([
      'no typed data: the grant names no EIP-712 domains',
    ]);
    expect(describeScope(grant({ rateLimit: { count: 1, intervalMs: 7 * DAY }, maxRequests: undefined })).at(-2)).toBe('at most 1 per 7 days');
  });
});
