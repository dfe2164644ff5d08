import { describe, expect, it } from 'vitest';
import type { Intent } from '#protocol';
import { compileRule } from './policy-conditions.js';
import { loadPolicyObject } from './policy-document.js';
import { decide } from './policy-evaluate.js';
import { policyFromFlags, type ApprovalFlags } from './policy-flags.js';
import type { PolicyOutcome } from './policy-types.js';
import { KEY, OTHER_KEY, bytes, intent, text, transfer } from './policy-test-fixtures.js';

const outcomeOf = (flags: ApprovalFlags, subject: Intent): PolicyOutcome => {
  const { document } = loadPolicyObject(policyFromFlags(flags));
  return decide(document.rules.map(compileRule), subject, 0, () => ({ state: 'unknown', reason: 'no ledger' })).outcome;
};

describe('policyFromFlags', () => {
  const hello = bytes('68656c6c6f'); // "hello" as bytes
  const rows: [string, ApprovalFlags, Intent, PolicyOutcome][] = [
    ['no flag approves nothing', {}, text('x'), 'deny'],
    ['--approve-key alone approves nothing', { approveKey: [KEY] }, text('x'), 'deny'],
    ['--approve-all approves text', { approveAll: true }, text('x'), 'allow'],
    ['--approve-all approves typed data', { approveAll: true }, intent(transfer()), 'allow'],
    ['--approve-all --approve-key: the key', { approveAll: true, approveKey: [KEY.toUpperCase()] }, text('x'), 'allow'],
    ['--approve-all --approve-key: another key', { approveAll: true, approveKey: [OTHER_KEY] }, text('x'), 'deny'],
    ['--approve-description matching', { approveDescription: '^monthly' }, text('x'), 'allow'],
    ['--approve-description not matching', { approveDescription: '^payroll' }, text('x'), 'deny'],
    ['--approve-message-text on text', { approveMessageText: '^hel+o$' }, text('hello'), 'allow'],
    ['--approve-message-text does not match bytes, even of the same text', { approveMessageText: '^hello$' }, hello, 'deny'],
    ['--approve-message-text does not match an EIP-191 message', { approveMessageText: '^hello$' }, intent({ kind: 'eip191', message: 'hello' }), 'deny'],
    ['--approve-message-hex on bytes', { approveMessageHex: '^6865' }, hello, 'allow'],
    ['--approve-message-hex does not match text', { approveMessageHex: '^6865' }, text('hello'), 'deny'],
    ['description and message must both match', { approveDescription: '^payroll', approveMessageText: 'hello' }, text('hello'), 'deny'],
    ['description and message both matching', { approveDescription: 'rent', approveMessageText: 'hello' }, text('hello'), 'allow'],
  ];
  it.each(rows)('%s', (_name, flags, subject, outcome) => {
    expect(outcomeOf(flags, subject)).toBe(outcome);
  });

  it('builds a plain document', () => {
    expect(policyFromFlags({ approveMessageHex: '^00', approveKey: [KEY, KEY] })).toEqual({
      version: 1,
      rules: [
        {
          id: 'approve-flags',
          outcome: 'allow',
          description: 'signer run --approve-message-hex',
          match: { keyIds: [KEY], kinds: ['bytes'], message: { hex: '^00' } },
        },
      ],
    });
  });

  it.each([
    [{ approveMessageText: 'a', approveMessageHex: 'b' }, /cannot be combined/],
    [{ approveAll: true, approveDescription: 'a' }, /--approve-all cannot be combined/],
    [{ approveDescription: '(' }, /--approve-description: invalid regular expression/],
    [{ approveAll: true, approveKey: ['nope'] }, /--approve-key "nope" is not a key id/],
  ] as [ApprovalFlags, RegExp][])('refuses %j', (flags, message) => {
    expect(() => policyFromFlags(flags)).toThrow(message);
  });
});
