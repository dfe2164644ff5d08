import { describe, expect, it } from 'vitest';
import type { Intent } from '#protocol';
import { checkConditions } from './policy-conditions.js';
import type { Check } from './policy-fields.js';
import {
  ALICE,
  BOB,
  DAI,
  KEY,
  MALLORY,
  OTHER_KEY,
  TUESDAY_1030_UTC,
  USDC,
  bytes,
  digest,
  intent,
  order,
  rule,
  text,
  transfer,
} from './policy-test-fixtures.js';

type State = Check['state'];
const noLimits = (): Check => ({ state: 'unknown', reason: 'no ledger in this spec' });

/** What the rule's conditions answer for the intent, combined: no if any no, else unknown if any, else yes. */
function answer(match: object, subject: Intent, now = TUESDAY_1030_UTC): { state: State; reasons: string[] } {
  const checks = checkConditions(rule('allow', match), subject, now, noLimits);
  const state: State = checks.some((c) => c.state === 'no') ? 'no' : checks.some((c) => c.state === 'unknown') ? 'unknown' : 'yes';
  return { state, reasons: checks.flatMap((c) => (c.state === 'yes' ? [] : [c.reason])) };
}

const usdc = (over: Parameters<typeof transfer>[0] = {}) => intent(transfer(over));

describe('match conditions, one row each', () => {
  const rows: [string, object, Intent, State][] = [
    ['empty match applies to anything', {}, text('x'), 'yes'],
    ['keyIds: listed key', { keyIds: [KEY.toUpperCase()] }, text('x'), 'yes'],
    ['keyIds: other key', { keyIds: [OTHER_KEY] }, text('x'), 'no'],
    ['kinds: eip712 on eip712', { kinds: ['eip712'] }, usdc(), 'yes'],
    ['kinds: eip712 on text', { kinds: ['eip712'] }, text('x'), 'no'],
    ['kinds: digest on digest', { kinds: ['digest', 'bytes'] }, digest(), 'yes'],
    ['chainIds: the intent chain', { chainIds: [1, 10] }, usdc(), 'yes'],
    ['chainIds: another chain', { chainIds: [10] }, usdc(), 'no'],
    ['chainIds: the domain chain when the intent has none', { chainIds: [1] }, intent(transfer(), { chainId: null }), 'yes'],
    ['chainIds: no chain at all', { chainIds: [1] }, text('x'), 'unknown'],
    ['chainIds: intent and domain disagree', { chainIds: [1, 5] }, intent(transfer({ chainId: 5 }), { chainId: 1 }), 'unknown'],
    ['chainIds: intent chain on a text payload', { chainIds: [137] }, text('x', { chainId: 137 }), 'yes'],
    ['domain.verifyingContract, any letter case', { domain: { verifyingContract: USDC.toLowerCase() } }, usdc(), 'yes'],
    ['domain.verifyingContract: other token', { domain: { verifyingContract: [DAI] } }, usdc(), 'no'],
    ['domain.name and version', { domain: { name: 'USD Coin', version: ['1', '2'] } }, usdc(), 'yes'],
    ['domain.name is case-sensitive', { domain: { name: 'usd coin' } }, usdc(), 'no'],
    ['domain field the domain lacks', { domain: { version: '1' } }, intent(order()), 'unknown'],
    ['domain on a text payload', { domain: { name: 'USD Coin' } }, text('x'), 'unknown'],
    ['primaryTypes: listed', { primaryTypes: ['Transfer'] }, usdc(), 'yes'],
    ['primaryTypes: other', { primaryTypes: ['Permit'] }, usdc(), 'no'],
    ['primaryTypes on bytes', { primaryTypes: ['Transfer'] }, bytes('00ff'), 'unknown'],
    ['recipients: on the allowlist, any case', { recipients: { field: 'to', allow: [ALICE.toUpperCase().replace('0X', '0x'), BOB] } }, usdc(), 'yes'],
    ['recipients: not on it', { recipients: { field: 'to', allow: [BOB] } }, usdc({ to: MALLORY }), 'no'],
    ['recipients: field not an address', { recipients: { field: 'value', allow: [BOB] } }, usdc(), 'unknown'],
    ['recipients: undeclared field', { recipients: { field: 'recipient', allow: [BOB] } }, usdc(), 'unknown'],
    ['recipients on text', { recipients: { field: 'to', allow: [BOB] } }, text('x'), 'unknown'],
    ['description matches anywhere', { description: 'rent' }, text('x'), 'yes'],
    ['description anchored', { description: '^rent$' }, text('x'), 'no'],
    ['message.text on text', { message: { text: '^pay \\d+ to (alice|bob)$' } }, text('pay 5 to bob'), 'yes'],
    ['message.text not matching', { message: { text: '^pay \\d+ to (alice|bob)$' } }, text('pay 5 to mallory'), 'no'],
    ['message.text on an EIP-191 text message', { message: { text: '^hello' } }, intent({ kind: 'eip191', message: 'hello' }), 'yes'],
    ['message.text on bytes: the rule fixes the encoding', { message: { text: 'deadbeef' } }, bytes('deadbeef'), 'unknown'],
    ['message.hex on bytes (lower-case hex)', { message: { hex: '^deadbeef' } }, bytes('deadbeef00'), 'yes'],
    ['message.hex not matching', { message: { hex: '^deadbeef' } }, bytes('00deadbeef'), 'no'],
    ['message.hex on an EIP-191 byte message, without 0x, lower case', { message: { hex: '^abcd$' } }, intent({ kind: 'eip191', message: { hex: '0xABCD' } }), 'yes'],
    ['message.hex on text: the rule fixes the encoding', { message: { hex: '64' } }, text('deadbeef'), 'unknown'],
    ['message on eip712', { message: { text: '.' } }, usdc(), 'unknown'],
    ['all conditions must hold: one no is enough', { kinds: ['eip712'], chainIds: [1], primaryTypes: ['Permit'] }, usdc(), 'no'],
    ['a no beats an unknown', { chainIds: [1], kinds: ['eip712'] }, text('x'), 'no'],
  ];
  it.each(rows)('%s', (_name, match, subject, expected) => {
    expect(answer(match, subject).state).toBe(expected);
  });
});

describe('field conditions, typed by the EIP-712 declaration', () => {
  const big = '115792089237316195423570985008687907853269984665640564039457584007913129639935'; // 2^256 - 1
  const rows: [string, object, Intent, State][] = [
    ['eq decimal string vs string value', { path: 'value', eq: '1000' }, usdc(), 'yes'],
    ['eq number vs string value (both integers)', { path: 'value', eq: 1000 }, usdc(), 'yes'],
    ['eq leading-zero-free compare as integers', { path: 'value', eq: '1000' }, usdc({ value: 1000 }), 'yes'],
    ['ne', { path: 'value', ne: '1000' }, usdc(), 'no'],
    ['in', { path: 'value', in: ['5', 1000] }, usdc(), 'yes'],
    ['notIn', { path: 'value', notIn: ['5', 1000] }, usdc(), 'no'],
    ['lt true', { path: 'value', lt: '1001' }, usdc(), 'yes'],
    ['lt false at equality', { path: 'value', lt: 1000 }, usdc(), 'no'],
    ['lte at equality', { path: 'value', lte: '1000' }, usdc(), 'yes'],
    ['gt false', { path: 'value', gt: '1000' }, usdc(), 'no'],
    ['gte true', { path: 'value', gte: 999 }, usdc(), 'yes'],
    ['range: gte and lte together', { path: 'value', gte: 1, lte: 999 }, usdc(), 'no'],
    ['beyond 2^64: compared as bigint', { path: 'value', lt: big }, usdc({ value: '115792089237316195423570985008687907853269984665640564039457584007913129639934' }), 'yes'],
    ['beyond 2^64: not less', { path: 'value', lt: '18446744073709551616' }, usdc({ value: '18446744073709551617' }), 'no'],
    ['string values are not numbers: 10 > 9', { path: 'value', gt: '9' }, usdc({ value: '10' }), 'yes'],
    ['an amount that does not parse', { path: 'value', lte: '1000' }, usdc({ value: '1e3' }), 'unknown'],
    ['a hex amount does not parse', { path: 'value', lte: '1000' }, usdc({ value: '0x10' }), 'unknown'],
    ['an unsafe JSON number does not parse', { path: 'value', lte: '1000' }, usdc({ value: 2 ** 60 }), 'unknown'],
    ['a missing field', { path: 'amount', lte: '1000' }, usdc(), 'unknown'],
    ['an undeclared message key is not read', { path: 'extra', eq: 'x' }, intent({ ...transfer(), message: { ...transfer().message, extra: 'x' } }), 'unknown'],
    ['address eq: another address', { path: 'to', eq: ALICE }, usdc({ to: '0x' + 'A'.repeat(40) }), 'no'],
    ['address eq mixed case', { path: 'to', eq: '0x' + 'a'.repeat(40) }, usdc({ to: '0x' + 'A'.repeat(40) }), 'yes'],
    ['address has no order', { path: 'to', lt: '5' }, usdc(), 'unknown'],
    ['address compared with a non-address', { path: 'to', eq: 'alice' }, usdc(), 'unknown'],
    ['string field exact', { path: 'memo', eq: 'rent' }, usdc(), 'yes'],
    ['string field is case-sensitive', { path: 'memo', in: ['Rent'] }, usdc(), 'no'],
    ['string compared with a number', { path: 'memo', eq: 5 }, usdc(), 'unknown'],
    ['a struct is not a value', { path: 'maker', eq: 'x' }, intent(order()), 'unknown'],
    ['nested struct field', { path: 'maker.wallet', eq: BOB.toUpperCase().replace('0X', '0x') }, intent(order()), 'yes'],
    ['bool field', { path: 'maker.verified', eq: true }, intent(order()), 'yes'],
    ['bool compared with a string', { path: 'maker.verified', eq: 'true' }, intent(order()), 'unknown'],
    ['array item, negative int', { path: 'items.0.amount', lt: 0 }, intent(order()), 'yes'],
    ['array item, number', { path: 'items.1.amount', eq: '7' }, intent(order()), 'yes'],
    ['array index out of range', { path: 'items.2.amount', eq: 0 }, intent(order()), 'unknown'],
    ['bytes field case-insensitive', { path: 'items.0.tag', eq: '0xdeadbeef' }, intent(order()), 'yes'],
    ['field condition on a text payload', { path: 'value', lte: 5 }, text('x'), 'unknown'],
  ];
  it.each(rows)('%s', (_name, condition, subject, expected) => {
    expect(answer({ fields: [condition] }, subject).state).toBe(expected);
  });

  it('says what the field is and what it was compared with', () => {
    expect(answer({ fields: [{ path: 'value', lte: '999' }] }, usdc()).reasons).toEqual(['message.value is "1000", not ≤ "999"']);
    expect(answer({ fields: [{ path: 'amount', lte: '1' }] }, usdc()).reasons[0]).toMatch(/message\.amount is missing/);
  });
});

describe('time windows, at a fixed now', () => {
  const at = (h: number, m: number, day = 2) => Date.UTC(2024, 0, day, h, m); // 2024-01-02 is a Tuesday
  const rows: [string, object, number, State][] = [
    ['inside, UTC', { from: '09:00', to: '17:00' }, at(10, 30), 'yes'],
    ['from is inclusive', { from: '10:30', to: '17:00' }, at(10, 30), 'yes'],
    ['to is exclusive', { from: '09:00', to: '10:30' }, at(10, 30), 'no'],
    ['before', { from: '11:00', to: '17:00' }, at(10, 30), 'no'],
    ['listed day', { days: ['mon', 'tue'], from: '00:00', to: '24:00' }, at(10, 30), 'yes'],
    ['other day', { days: ['sat', 'sun'], from: '00:00', to: '24:00' }, at(10, 30), 'no'],
    ['wraps past midnight: late', { from: '22:00', to: '06:00' }, at(23, 0), 'yes'],
    ['wraps past midnight: early', { from: '22:00', to: '06:00' }, at(5, 59), 'yes'],
    ['wraps past midnight: midday', { from: '22:00', to: '06:00' }, at(12, 0), 'no'],
    // 10:30 UTC is 11:30 in Paris (winter) and 05:30 in New York.
    ['time zone: Paris', { from: '11:00', to: '12:00', timeZone: 'Europe/Paris' }, at(10, 30), 'yes'],
    ['time zone: New York', { from: '09:00', to: '17:00', timeZone: 'America/New_York' }, at(10, 30), 'no'],
    // 23:30 UTC on Tuesday is already Wednesday in Tokyo.
    ['the weekday is local', { days: ['wed'], from: '08:00', to: '09:00', timeZone: 'Asia/Tokyo' }, at(23, 30), 'yes'],
  ];
  it.each(rows)('%s', (_name, window, now, expected) => {
    expect(answer({ timeWindows: [window] }, text('x'), now).state).toBe(expected);
  });

  it('any of several windows is enough, and the reason names the local time', () => {
    const windows = [
      { from: '08:00', to: '09:00' },
      { from: '10:00', to: '11:00' },
    ];
    expect(answer({ timeWindows: windows }, text('x'), at(10, 30)).state).toBe('yes');
    expect(answer({ timeWindows: windows }, text('x'), at(12, 0)).reasons).toEqual(['Tue 12:00 UTC is outside 08:00-09:00 UTC and 10:00-11:00 UTC']);
  });
});

describe('within: velocity limits are asked of the ledger', () => {
  it('passes the limit id and uses its answer', () => {
    const asked: string[] = [];
    const r = rule('allow', { within: ['daily'] }, 'r', [{ id: 'daily', maxCount: 1, windowMs: 1000, per: 'key' }]);
    const checks = checkConditions(r, text('x'), 0, (id) => {
      asked.push(id);
      return { state: 'no', reason: 'spent' };
    });
    expect(asked).toEqual(['daily']);
    expect(checks).toEqual([{ state: 'no', reason: 'spent' }]);
  });
});
