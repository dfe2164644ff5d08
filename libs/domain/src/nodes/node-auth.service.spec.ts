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

describe('NodeAuthService: policy reports', () => {
  const identity = generateIdentity();
  const node = { id: '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41', label: 'n', publicKey: identity.publicKey, status: 'active', createdAt: new Date(0), revokedAt: null, lastSeenAt: null, policyHash: null, policyReportedAt: null };

  /** A store with `node` enrolled, whose last reported hash is `previous`. */
  function storeWith(previous: string | null) {
    const append = vi.fn((_entry: { action: string; details: unknown }) => Promise.resolve());
    const reportPolicy = vi.fn(() => Promise.resolve({ previous }));
    const tx = { audit: { append }, nodes: { touch: vi.fn(() => Promise.resolve()), reportPolicy } };
    const store = {
      transaction: <T>(work: (t: never) => Promise<T>) => work(tx as never),
      read: { nodes: { findByPublicKey: vi.fn(() => Promise.resolve(node)) } },
    } as unknown as Store;
    return { store, append, reportPolicy };
  }
  const answer = (challenge: string, policyHash?: string) => ({
    type: 'auth.response' as const,
    v: 1 as const,
    publicKey: identity.publicKey,
    signature: identitySign(identity.secretKey, authTranscript('unit', challenge, policyHash)),
    ...(policyHash === undefined ? {} : { policyHash }),
  });

  it.each([
    { previous: null, reported: 'aa'.repeat(32), audited: [{ from: null, to: 'aa'.repeat(32) }] },
    { previous: 'aa'.repeat(32), reported: 'bb'.repeat(32), audited: [{ from: 'aa'.repeat(32), to: 'bb'.repeat(32) }] },
    { previous: 'aa'.repeat(32), reported: 'aa'.repeat(32), audited: [] },
  ])('previous $previous, reported $reported: audits $audited.length change(s)', async ({ previous, reported, audited }) => {
    const { store, append, reportPolicy } = storeWith(previous);
    const auth = new NodeAuthService(store, settings);
    const { state } = auth.issueChallenge();
    const result = await auth.authenticate(state, answer(state.challenge, reported), { remoteAddress: null });
    expect(reportPolicy).toHaveBeenCalledWith(node.id, reported, expect.any(Date));
    expect(result.policyHash).toBe(reported);
    const changes = append.mock.calls.map(([e]) => e).filter((e) => e.action === 'node.policy_changed');
    expect(changes.map((e) => e.details)).toEqual(audited);
  });

  it('an answer without a hash records none and audits no change', async () => {
    const { store, append, reportPolicy } = storeWith('aa'.repeat(32));
    const auth = new NodeAuthService(store, settings);
    const { state } = auth.issueChallenge();
    await auth.authenticate(state, answer(state.challenge), { remoteAddress: null });
    expect(reportPolicy).not.toHaveBeenCalled();
    expect(append.mock.calls.map(([e]) => e.action)).toEqual(['node.connected']);
  });
});
