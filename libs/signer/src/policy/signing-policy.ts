import { hexToBytes } from '#crypto';
import type { RequestProposeFrame } from '#protocol';

/**
 * The node's own rule of what it signs, decided on the proposal without trusting the coordinator:
 * - `approve-all`: sign whatever the coordinator proposes (demo and test setups);
 * - `match`: sign only when every pattern given matches (anywhere in the text, as `RegExp` does: anchor
 *   it with `^...$` to match the whole text). The message pattern is tested against the
 *   message as UTF-8 text when the request says `utf8`, else against its hex. A `match` rule with no
 *   pattern approves nothing: policies fail closed.
 */
export type SigningPolicy =
  | { kind: 'approve-all' }
  | { kind: 'match'; description?: RegExp; message?: RegExp };

export type PolicyDecision = { approved: true; reason: string } | { approved: false; reason: string };

export type PolicySubject = Pick<RequestProposeFrame, 'description' | 'message' | 'messageEncoding'>;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function evaluatePolicy(policy: SigningPolicy, subject: PolicySubject): PolicyDecision {
  switch (policy.kind) {
    case 'approve-all':
      return { approved: true, reason: 'policy approves every request' };
    case 'match': {
      if (!policy.description && !policy.message) {
        return { approved: false, reason: 'policy has no rule: nothing is approved' };
      }
      if (policy.description && !matches(policy.description, subject.description)) {
        return { approved: false, reason: `description does not match ${String(policy.description)}` };
      }
      if (policy.message) {
        const text = messageText(subject);
        if (text === undefined) {
          return { approved: false, reason: 'message is declared utf8 but is not valid UTF-8' };
        }
        if (!matches(policy.message, text)) {
          return { approved: false, reason: `message does not match ${String(policy.message)}` };
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

export function describePolicy(policy: SigningPolicy): string {
  switch (policy.kind) {
    case 'approve-all':
      return 'approve-all';
    case 'match': {
      const parts = [
        policy.description ? `description ${String(policy.description)}` : undefined,
        policy.message ? `message ${String(policy.message)}` : undefined,
      ].filter((p) => p !== undefined);
      return parts.length > 0 ? `match ${parts.join(' and ')}` : 'deny-all (no rule)';
    }
  }
}

// `search` always starts at 0 and leaves `lastIndex` alone, unlike `test` on a /g or /y pattern.
const matches = (pattern: RegExp, text: string): boolean => text.search(pattern) !== -1;

function messageText(subject: PolicySubject): string | undefined {
  if (subject.messageEncoding === 'hex') return subject.message;
  try {
    return strictUtf8.decode(hexToBytes(subject.message));
  } catch {
    return undefined;
  }
}
