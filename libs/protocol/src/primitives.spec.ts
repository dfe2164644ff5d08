import { describe, expect, it } from 'vitest';
import { decodeNodeFrame } from './codec.js';
import { Text, Uuid } from './primitives.js';

const REQUEST = '7bada169-4c1e-4f5a-9d8e-0123456789ab';

describe('primitives', () => {
  it('reads a UUID in any letter case as its lower-case spelling', () => {
    expect(Uuid.parse(REQUEST.toUpperCase())).toBe(REQUEST);
    expect(Uuid.safeParse('7bada169-4c1e-4f5a-9d8e-0123456789a').success).toBe(false);
  });

  it('canonicalizes the ids of every frame where it enters', () => {
    const decoded = decodeNodeFrame(
      JSON.stringify({ v: 1, type: 'request.decline', requestId: REQUEST.toUpperCase(), code: 'POLICY_DENIED', reason: 'no' }),
    );
    expect(decoded.ok && decoded.frame.type === 'request.decline' && decoded.frame.requestId).toBe(REQUEST);
  });

  it.each([
    ['a NUL character', 'before\u0000after'],
    ['a lone high surrogate', 'x\uD800y'],
    ['a lone low surrogate', 'x\uDC00y'],
    ['a high surrogate at the end', 'x\uD83D'],
  ])('refuses text with %s', (_what, text) => {
    const parsed = Text(100).safeParse(text);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/NUL character or a lone UTF-16 surrogate/);
  });

  it('accepts text with paired surrogates (emoji) and other control characters', () => {
    expect(Text(100).parse('pay 🍕 \t\n')).toBe('pay 🍕 \t\n');
  });

  it('refuses a decline whose reason carries a NUL byte, naming the field', () => {
    const decoded = decodeNodeFrame(JSON.stringify({ v: 1, type: 'request.decline', requestId: REQUEST, code: 'POLICY_DENIED', reason: 'a\u0000b' }));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error.code).toBe('MALFORMED_FRAME');
    expect(decoded.error.message).toMatch(/^reason: /);
  });
});
