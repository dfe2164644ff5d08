import { describe, expect, it, vi } from 'vitest';
import { generateIdentity, identitySign } from '#crypto';
import { authTranscript } from '#protocol';
import type { DomainSettings } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import type { Store } from '../ports.js';
import { NodeAuthService } from './node-auth.service.js';

const settings: DomainSettings = { coordinatorId: 'unit', attemptStaggerMs: 0, defaultRequestTtlMs: 1000, maxRequestTtlMs: 1000 };

/** A store whose audit appends are counted; no node is enrolled. */
function fakeStore() {
  const append = vi.fn(() => Promise.resolve());
  const tx = { audit: { append }, nodes: { touch: vi.fn(() => Promise.resolve()) } };
  const store = {
    transaction: <T>(work: (t: never) => Promise<T>) => work(tx as never),
    read: { nodes: { findByPublicKey: vi.fn(() => Promise.resolve(null)) } },
    ping: () => Promise.resolve(),
  } as unknown as Store;
  return { store, append };
}

describe('NodeAuthService: at most one audit entry per connection (challenge)', () => {
  it('refuses a reused challenge without writing another node.refused entry', async () => {
    const { store, append } = fakeStore();
    const auth = new NodeAuthService(store, settings);
    const { state } = auth.issueChallenge();
    const stranger = generateIdentity();
    const bad = { type: 'auth.response' as const, v: 1 as const, publicKey: stranger.publicKey, signature: identitySign(stranger.secretKey, authTranscript('other', state.challenge)) };

    await expect(auth.authenticate(state, bad, { remoteAddress: '10.0.0.1' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(append).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 50; i++) {
      const e: unknown = await auth.authenticate(state, bad, { remoteAddress: '10.0.0.1' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('AUTH_FAILED');
    }
    expect(append).toHaveBeenCalledTimes(1);
  });
});
