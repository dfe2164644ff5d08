import { hexToBytes } from '#crypto';
import type { RequestProposeFrame } from '#protocol';

/** How a message travels in a proposal: `utf8` says its bytes are UTF-8 text, `hex` that they are not. */
export type MessageEncoding = RequestProposeFrame['messageEncoding'];

/**
 * A message pattern and how the operator wants it matched: `utf8` against the message decoded as
 * UTF-8 text (strictly: invalid UTF-8 is declined, a byte-order mark is kept, not stripped), `hex`
 * against the lower-case hex of its bytes. The operator's rule decides, not the coordinator: a proposal
 * whose `messageEncoding` is not the rule's is declined, so the coordinator cannot steer which of the
 * two forms the pattern sees.
 */
export interface MessageRule {
  encoding: MessageEncoding;
  pattern: RegExp;
}

/**
 * The node's own rule of what it signs, decided on the proposal without trusting the coordinator:
 * - `approve-all`: sign whatever the coordinator proposes (demo and test setups);
 * - `match`: sign only when every pattern given matches (anywhere in the text, as `RegExp` does: anchor
 *   it with `^...$` to match the whole text). A `match` rule with no pattern approves nothing: policies
 *   fail closed.
 * Either may be limited to `keyIds` (canonical lower-case UUIDs): a proposal for any other key is
 * declined whatever it says.
 */
export type SigningPolicy =
  | { kind: 'approve-all'; keyIds?: readonly string[] }
  | { kind: 'match'; description?: RegExp; message?: MessageRule; keyIds?: readonly string[] };

export type PolicyDecision = { approved: true; reason: string } | { approved: false; reason: string };

export type PolicySubject = Pick<RequestProposeFrame, 'keyId' | 'description' | 'message' | 'messageEncoding'>;

// ignoreBOM keeps a leading U+FEFF in the text, so that `^payroll` does not match "\uFEFFpayroll".
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function evaluatePolicy(policy: SigningPolicy, subject: PolicySubject): PolicyDecision {
  if (policy.keyIds && !policy.keyIds.includes(subject.keyId.toLowerCase())) {
    return { approved: false, reason: `key ${subject.keyId} is not one this node's policy approves (${policy.keyIds.join(', ')})` };
  }
  switch (policy.kind) {
    case 'approve-all':
      return { approved: true, reason: policy.keyIds ? 'policy approves every request for this key' : 'policy approves every request' };
    case 'match': {
      if (!policy.description && !policy.message) {
        return { approved: false, reason: 'policy has no rule: nothing is approved' };
      }
      if (policy.description && !matches(policy.description, subject.description)) {
        return { approved: false, reason: `description does not match ${String(policy.description)}` };
      }
      if (policy.message) {
        const rule = policy.message;
        if (subject.messageEncoding !== rule.encoding) {
          return {
            approved: false,
            reason:
              `the proposal declares messageEncoding ${subject.messageEncoding}, but this node's message rule expects ` +
              `${rule.encoding} (it matches messages ${describeEncoding(rule.encoding)})`,
          };
        }
        const text = rule.encoding === 'hex' ? subject.message : utf8Text(subject.message);
        if (text === undefined) {
          return { approved: false, reason: 'message is declared utf8 but is not valid UTF-8' };
        }
        if (!matches(rule.pattern, text)) {
          return { approved: false, reason: `message ${describeEncoding(rule.encoding)} does not match ${String(rule.pattern)}` };
        }
      }
      return { approved: true, reason: 'matched the policy' };
    }
  }
}

/**
 * Compiles an operator's pattern with ordinary RegExp semantics: it may match anywhere in the text,
 * so a pattern meant for the whole text must be anchored (`^payroll batch \\d+$`).
 */
export function compilePattern(source: string): RegExp {
  return new RegExp(source);
}

/** One line for the start-up log: what this node approves. */
export function describePolicy(policy: SigningPolicy): string {
  const keys = policy.keyIds ? ` for keys ${policy.keyIds.join(', ')} only` : '';
  switch (policy.kind) {
    case 'approve-all':
      return `approve-all${keys}`;
    case 'match': {
      const parts = [
        policy.description ? `description ${String(policy.description)}` : undefined,
        policy.message ? `message ${describeEncoding(policy.message.encoding)} ${String(policy.message.pattern)}` : undefined,
      ].filter((p) => p !== undefined);
      return parts.length > 0 ? `match ${parts.join(' and ')}${keys}` : 'deny-all (no rule)';
    }
  }
}

const describeEncoding = (encoding: MessageEncoding): string => (encoding === 'utf8' ? 'as UTF-8 text' : 'as hex');

// `search` always starts at 0 and leaves `lastIndex` alone, unlike `test` on a /g or /y pattern.
const matches = (pattern: RegExp, text: string): boolean => text.search(pattern) !== -1;

function utf8Text(hex: string): string | undefined {
  try {
    return strictUtf8.decode(hexToBytes(hex));
  } catch {
    return undefined;
  }
}
