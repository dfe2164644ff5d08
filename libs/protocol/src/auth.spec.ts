import { describe, expect, it } from 'vitest';
import { authTranscript } from './auth.js';

describe('authTranscript', () => {
  const challenge = 'ab'.repeat(32);
  const policyHash = 'cd'.repeat(32);

  it('without a policy hash is byte for byte what nodes built before the report sign', () => {
    expect(new TextDecoder().decode(authTranscript('roundtable', challenge))).toBe(`roundtable/v1/node-auth\nroundtable\n${challenge}`);
  });

  it('with a policy hash signs it under its own tag, so it cannot be altered or stripped', () => {
    const text = new TextDecoder().decode(authTranscript('roundtable', challenge, policyHash));
    expect(text).toBe(`roundtable/v1/node-auth+policy\nroundtable\n${challenge}\n${policyHash}`);
    expect(authTranscript('roundtable', challenge, policyHash)).not.toEqual(authTranscript('roundtable', challenge, '00'.repeat(32)));
    // A coordinator id that swallows the challenge cannot make one form equal the other: the tags differ.
    expect(authTranscript(`roundtable\n${challenge}`, policyHash)).not.toEqual(authTranscript('roundtable', challenge, policyHash));
  });
});
