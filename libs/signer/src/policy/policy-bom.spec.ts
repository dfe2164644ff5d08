import { describe, expect, it } from 'vitest';
import { Intent as IntentSchema, type Intent } from '#protocol';
import { signedBytes } from '#intent';
import type { Check } from './policy-fields.js';
import { decide } from './policy-evaluate.js';
import { policyFromFlags } from './policy-flags.js';
import { PolicyDocument } from './policy-schema.js';
import { compileRule } from './policy-conditions.js';
import { TUESDAY_1030_UTC, bytes, intent, rules, text } from './policy-test-fixtures.js';

/**
 * A leading UTF-8 byte-order mark (EF BB BF, U+FEFF) is part of the message a node signs, so it is part
 * of what the node's rule matches: nothing strips it (issue 8 §2). Were it stripped, a coordinator could
 * have a node sign "\uFEFFpay 5 to mallory" under a rule written for "pay 5 to ...", or bytes that a
 * decoder would show as an allowed text. Bytes are never decoded for a text pattern at all (the rule
 * fixes the encoding), and a text payload's U+FEFF is matched as the character it is.
 */

const BOM_HEX = 'efbbbf';
const utf8Hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const PAY = 'pay 5 to bob';
const PAY_RULE = '^pay \\d+ to (alice|bob)$';
const keepsEveryLimit = (): Check => ({ state: 'yes' });

const outcomeOf = (match: object, subject: Intent) => decide(rules(['allow', match, 'pay']), subject, TUESDAY_1030_UTC, keepsEveryLimit).outcome;

describe('a leading byte-order mark is kept, never stripped, when a rule matches a message', () => {
  it('the wire keeps it: a text payload with U+FEFF parses as it is and signs EF BB BF first', () => {
    const parsed = IntentSchema.parse(text(`\uFEFF${PAY}`));
    expect(parsed.payload).toEqual({ kind: 'text', text: `\uFEFF${PAY}` });
    expect(Buffer.from(signedBytes(parsed.payload)).toString('hex')).toBe(BOM_HEX + utf8Hex(PAY));
  });

  const rows: [string, object, Intent, 'allow' | 'deny'][] = [
    ['control: the text without a BOM is allowed', { message: { text: PAY_RULE } }, text(PAY), 'allow'],
    ['text with a leading U+FEFF does not match an anchored pattern written without it', { message: { text: PAY_RULE } }, text(`\uFEFF${PAY}`), 'deny'],
    ['text with a leading U+FEFF matches a pattern that names it', { message: { text: '^\\uFEFFpay \\d+ to bob$' } }, text(`\uFEFF${PAY}`), 'allow'],
    ['an unanchored pattern sees the U+FEFF as a character of the text', { message: { text: '^.pay' } }, text(`\uFEFF${PAY}`), 'allow'],
    ['bytes EF BB BF + text are not decoded for a text pattern', { message: { text: PAY_RULE } }, bytes(BOM_HEX + utf8Hex(PAY)), 'deny'],
    ['bytes EF BB BF + text are not decoded for an unanchored text pattern either', { message: { text: 'pay' } }, bytes(BOM_HEX + utf8Hex(PAY)), 'deny'],
    ['bytes EF BB BF + text do not match the hex of the text anchored without the BOM', { message: { hex: `^${utf8Hex(PAY)}$` } }, bytes(BOM_HEX + utf8Hex(PAY)), 'deny'],
    ['bytes EF BB BF + text match a hex pattern that includes the BOM', { message: { hex: `^${BOM_HEX}${utf8Hex(PAY)}$` } }, bytes(BOM_HEX + utf8Hex(PAY)), 'allow'],
    [
      'an EIP-191 byte message with a BOM is not decoded for a text pattern',
      { message: { text: PAY_RULE } },
      intent({ kind: 'eip191', message: { hex: `0x${BOM_HEX}${utf8Hex(PAY)}` } }),
      'deny',
    ],
    ['an EIP-191 text message with a leading U+FEFF keeps it', { message: { text: PAY_RULE } }, intent({ kind: 'eip191', message: `\uFEFF${PAY}` }), 'deny'],
  ];
  it.each(rows)('%s', (_name, match, subject, expected) => {
    expect(outcomeOf(match, subject)).toBe(expected);
  });

  it('the --approve-message-text shorthand keeps the BOM too', () => {
    const doc = PolicyDocument.parse(policyFromFlags({ approveMessageText: PAY_RULE }));
    const compiled = doc.rules.map(compileRule);
    const verdict = (subject: Intent) => decide(compiled, subject, TUESDAY_1030_UTC, keepsEveryLimit).outcome;
    expect(verdict(text(PAY))).toBe('allow');
    expect(verdict(text(`\uFEFF${PAY}`))).toBe('deny');
    expect(verdict(bytes(BOM_HEX + utf8Hex(PAY)))).toBe('deny');
  });

  it('the --approve-message-hex shorthand matches the BOM as bytes', () => {
    const doc = PolicyDocument.parse(policyFromFlags({ approveMessageHex: `^${utf8Hex('pay')}` }));
    const compiled = doc.rules.map(compileRule);
    const verdict = (subject: Intent) => decide(compiled, subject, TUESDAY_1030_UTC, keepsEveryLimit).outcome;
    expect(verdict(bytes(utf8Hex(PAY)))).toBe('allow');
    expect(verdict(bytes(BOM_HEX + utf8Hex(PAY)))).toBe('deny');
  });
});
