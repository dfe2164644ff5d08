import { describe, expect, it } from 'vitest';
import { bytesToHex, utf8 } from '#crypto';
import { compilePattern, describePolicy, evaluatePolicy, type PolicySubject } from './signing-policy.js';

const subject = (message: string, description = 'payroll batch 42', encoding: 'utf8' | 'hex' = 'utf8'): PolicySubject => ({
  description,
  message: encoding === 'utf8' ? bytesToHex(utf8(message)) : message,
  messageEncoding: encoding,
});

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

  it('matches a utf8 message as text and a hex message as hex', () => {
    const policy = { kind: 'match', message: compilePattern('^pay \\d+ to (alice|bob)$') } as const;
    expect(evaluatePolicy(policy, subject('pay 5 to bob')).approved).toBe(true);
    expect(evaluatePolicy(policy, subject('pay 5 to mallory')).approved).toBe(false);
    const hexPolicy = { kind: 'match', message: compilePattern('^deadbeef') } as const;
    expect(evaluatePolicy(hexPolicy, subject('deadbeef00', 'd', 'hex')).approved).toBe(true);
    // the same bytes declared utf8 are matched as text, not as hex
    expect(evaluatePolicy(hexPolicy, { ...subject('deadbeef00', 'd', 'hex'), messageEncoding: 'utf8' }).approved).toBe(false);
  });

  it('requires every given pattern to match', () => {
    const policy = { kind: 'match', description: /^payroll/, message: /^pay / } as const;
    expect(evaluatePolicy(policy, subject('pay 1 to bob')).approved).toBe(true);
    expect(evaluatePolicy(policy, subject('withdraw all')).approved).toBe(false);
    expect(evaluatePolicy(policy, subject('pay 1 to bob', 'treasury sweep')).approved).toBe(false);
  });

  it('fails closed: no rule, or a utf8 message that is not UTF-8', () => {
    expect(evaluatePolicy({ kind: 'match' }, subject('x'))).toMatchObject({ approved: false });
    const policy = { kind: 'match', message: /.*/ } as const;
    const invalid: PolicySubject = { description: 'd', message: 'ff', messageEncoding: 'utf8' };
    expect(evaluatePolicy(policy, invalid)).toMatchObject({ approved: false, reason: expect.stringMatching(/UTF-8/) as unknown });
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
    expect(describePolicy({ kind: 'match' })).toMatch(/deny-all/);
  });
});
