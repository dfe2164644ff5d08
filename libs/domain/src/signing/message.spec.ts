import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '#protocol';
import { DomainError } from '../errors.js';
import { encodeMessage } from './message.js';

describe('encodeMessage', () => {
  it('turns utf8 text and hex (with or without 0x, any case) into lower-case hex of the exact bytes', () => {
    expect(encodeMessage('héllo', 'utf8')).toBe(Buffer.from('héllo', 'utf8').toString('hex'));
    expect(encodeMessage('0xDEADbeef', 'hex')).toBe('deadbeef');
  });

  it('refuses odd, non-hex, empty and oversized messages with VALIDATION_FAILED', () => {
    for (const [m, e] of [['abc', 'hex'], ['zz', 'hex'], ['', 'utf8'], ['ab'.repeat(MAX_MESSAGE_BYTES + 1), 'hex']] as const) {
      expect(() => encodeMessage(m, e)).toThrow(DomainError);
    }
  });
});
