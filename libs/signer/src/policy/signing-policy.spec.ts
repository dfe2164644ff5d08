import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '#crypto';
import { compilePattern, describePolicy, evaluatePolicy, type PolicySubject, type SigningPolicy } from './signing-policy.js';

const KEY = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
const OTHER_KEY = '0d9e7c1a-5b3f-4a2e-8c6d-2f1b4e7a9c30';

const subject = (message: string, description = 'payroll batch 42', encoding: 'utf8' | 'hex' = 'utf8', keyId = KEY): PolicySubject => ({
  keyId,
  description,
  message: encoding === 'utf8' ? bytesToHex(utf8(message)) : message,
  messageEncoding: encoding,
});
const text = (source: string): SigningPolicy => ({ kind: 'match', message: { encoding: 'utf8', pattern: compilePattern(source) } });
const hex = (source: string): SigningPolicy => ({ kind: 'match', message: { encoding: 'hex', pattern: compilePattern(source) } });

describe('evaluatePolicy', () => {
  it('approve-all approves anything', () => {
    expect(evaluatePolicy({ kind: 'approve-all' }, subject('x')).approved).toBe(true);
  });

  it('matches the description', () => {
    const policy = { kind: 'match', description: compilePattern('^payroll batch \\d+$') } as const;
    expect(evaluatePolicy(policy, subject('x')).approved).toBe(true);
    const denied = evaluatePolicy(policy, subject('x', 'payroll batch 42 and a bonus'));
    expect(denied).toMatchObject({ approved: false, reason: expect.stringMatching(/description/) as unknown });
  });

  it('a text rule matches a utf8 message as text; a hex rule matches a hex message as hex', () => {
    const policy = text('^pay \\d+ to (alice|bob)$');
    expect(evaluatePolicy(policy, subject('pay 5 to bob')).approved).toBe(true);
    expect(evaluatePolicy(policy, subject('pay 5 to mallory'))).toMatchObject({ approved: false, reason: expect.stringMatching(/UTF-8 text does not match/) as unknown });
    expect(evaluatePolicy(hex('^deadbeef'), subject('deadbeef00', 'd', 'hex')).approved).toBe(true);
    expect(evaluatePolicy(hex('^deadbeef'), subject('00deadbeef', 'd', 'hex')).approved).toBe(false);
  });

  it('the rule, not the coordinator, fixes the encoding: a proposal declaring the other one is declined, saying so', () => {
    // The same bytes, "deadbeef" as text or as hex: the coordinator cannot pick which form the pattern sees.
    const asText = subject('deadbeef', 'd', 'utf8');
    const asHex = subject(bytesToHex(utf8('deadbeef')), 'd', 'hex');
    expect(asText.message).toBe(asHex.message);
    expect(evaluatePolicy(text('^deadbeef$'), asText).approved).toBe(true);
    expect(evaluatePolicy(text('^deadbeef$'), asHex)).toEqual({
      approved: false,
      reason: expect.stringMatching(/declares messageEncoding hex.*rule expects utf8/) as unknown,
    });
    expect(evaluatePolicy(hex('^6465'), asHex).approved).toBe(true);
    expect(evaluatePolicy(hex('^6465'), asText)).toEqual({
      approved: false,
      reason: expect.stringMatching(/declares messageEncoding utf8.*rule expects hex/) as unknown,
    });
    // A rule that matches anything still requires the declared encoding.
    expect(evaluatePolicy(text(''), asHex).approved).toBe(false);
    expect(evaluatePolicy(hex(''), asText).approved).toBe(false);
  });

  it('a text rule decodes strictly and keeps a byte-order mark', () => {
    const invalid: PolicySubject = { keyId: KEY, description: 'd', message: 'ff', messageEncoding: 'utf8' };
    expect(evaluatePolicy(text('.*'), invalid)).toMatchObject({ approved: false, reason: expect.stringMatching(/not valid UTF-8/) as unknown });
    const truncated: PolicySubject = { ...invalid, message: bytesToHex(utf8('pay 5€')).slice(0, -2) };
    expect(evaluatePolicy(text('^pay'), truncated).approved).toBe(false);
    const bom: PolicySubject = { ...invalid, message: `efbbbf${bytesToHex(utf8('payroll'))}` };
    expect(evaluatePolicy(text('^payroll'), bom).approved).toBe(false);
    expect(evaluatePolicy(text('^\\uFEFFpayroll$'), bom).approved).toBe(true);
  });

  it('requires every given pattern to match', () => {
    const policy: SigningPolicy = { kind: 'match', description: /^payroll/, message: { encoding: 'utf8', pattern: /^pay / } };
    expect(evaluatePolicy(policy, subject('pay 1 to bob')).approved).toBe(true);
    expect(evaluatePolicy(policy, subject('withdraw all')).approved).toBe(false);
    expect(evaluatePolicy(policy, subject('pay 1 to bob', 'treasury sweep')).approved).toBe(false);
  });

  it('limits every rule, approve-all included, to the keys it names (any letter case)', () => {
    const keyIds = [KEY];
    expect(evaluatePolicy({ kind: 'approve-all', keyIds }, subject('x')).approved).toBe(true);
    expect(evaluatePolicy({ kind: 'approve-all', keyIds }, subject('x', 'd', 'utf8', KEY.toUpperCase())).approved).toBe(true);
    expect(evaluatePolicy({ kind: 'approve-all', keyIds }, subject('x', 'd', 'utf8', OTHER_KEY))).toEqual({
      approved: false,
      reason: expect.stringContaining(`key ${OTHER_KEY} is not one this node's policy approves`) as unknown,
    });
    const match: SigningPolicy = { kind: 'match', description: /^payroll/, keyIds };
    expect(evaluatePolicy(match, subject('x')).approved).toBe(true);
    expect(evaluatePolicy(match, subject('x', 'payroll', 'utf8', OTHER_KEY)).approved).toBe(false);
  });

  it('fails closed: no rule approves nothing', () => {
    expect(evaluatePolicy({ kind: 'match' }, subject('x'))).toMatchObject({ approved: false });
    expect(evaluatePolicy({ kind: 'match', keyIds: [KEY] }, subject('x'))).toMatchObject({ approved: false });
  });

  it('is not fooled by a stateful /g pattern', () => {
    const policy = { kind: 'match', description: /payroll/g } as const;
    for (let i = 0; i < 3; i++) expect(evaluatePolicy(policy, subject('x')).approved).toBe(true);
  });

  it('patterns match anywhere unless anchored, like RegExp', () => {
    const policy = (source: string) => ({ kind: 'match', description: compilePattern(source) }) as const;
    expect(evaluatePolicy(policy('^Demo'), subject('x', 'Demo payment signed with ed25519')).approved).toBe(true);
    expect(evaluatePolicy(policy('Demo'), subject('x', 'Not a Demo')).approved).toBe(true);
    expect(evaluatePolicy(policy('^Demo$'), subject('x', 'Demo payment')).approved).toBe(false);
  });
});

describe('describePolicy', () => {
  it('says what is approved, how the message is matched and for which keys', () => {
    expect(describePolicy({ kind: 'match' })).toMatch(/deny-all/);
    expect(describePolicy({ kind: 'approve-all' })).toBe('approve-all');
    expect(describePolicy({ kind: 'approve-all', keyIds: [KEY, OTHER_KEY] })).toBe(`approve-all for keys ${KEY}, ${OTHER_KEY} only`);
    expect(describePolicy({ kind: 'match', description: /^payroll/, message: { encoding: 'utf8', pattern: /^pay / }, keyIds: [KEY] })).toBe(
      `match description /^payroll/ and message as UTF-8 text /^pay / for keys ${KEY} only`,
    );
    expect(describePolicy(hex('^dead'))).toBe('match message as hex /^dead/');
  });
});
