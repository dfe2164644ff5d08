import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { aggregateOrBlame, commit, dealKey, groupPublicKey, hexToBytes, signShare, sortCommitments, type SuiteId } from '#crypto';
import type { Intent } from '#protocol';
import { DeadlineTimers } from '../common/deadline-timers.js';
import type { Repositories } from '../ports.js';
import type { AttemptRecord, AuditEntryInput, KeyRecord, ShareRecord, SigningRequestRecord } from '../records.js';
import { finishAttempt } from './attempt-steps.js';
import { RequestEvent, type SessionContext } from './request-event.js';
import type { RequestState } from './request-state.js';

/**
 * finishAttempt on a real 2-of-2 key with real shares. A z = 0 signature cannot be produced by real
 * shares (it would need R = -c·PK), so the one seam is the aggregate function: the z = 0 case wraps
 * the real aggregate and zeroes z of what it returns.
 */

const MESSAGE = 'aa'.repeat(32);
const nodeIds = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];

function fixture(suite: SuiteId) {
  const dealt = dealKey(suite, 2, 2);
  const ids = Object.keys(dealt.secretShares);
  const rounds = ids.map((id) => ({ id, ...commit(suite, id, dealt.secretShares[id]!) }));
  const list = sortCommitments(suite, rounds.map((r) => r.commitment));
  const now = new Date();
  const key: KeyRecord = {
    id: '00000000-0000-4000-8000-00000000000a',
    suite,
    threshold: 2,
    maxSigners: 2,
    groupPublicKey: groupPublicKey(dealt.public),
    publicPackage: dealt.public,
    members: ids.map((identifier, i) => ({ nodeId: nodeIds[i]!, identifier, verifyingShare: dealt.public.verifyingShares[identifier]! })),
    status: 'active',
    origin: 'dealer',
    createdAt: now,
  };
  const request: SigningRequestRecord = {
    id: '00000000-0000-4000-8000-00000000000b',
    keyId: key.id,
    intent: {} as Intent,
    intentHash: 'bb'.repeat(32),
    proposer: 'admin',
    message: MESSAGE,
    messageEncoding: 'hex',
    description: '',
    status: 'signing',
    deadline: new Date(now.getTime() + 60_000),
    idempotencyKey: null,
    requestHash: 'cc'.repeat(32),
    createdBy: 'admin',
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    signature: null,
    failureCode: null,
    failureReason: null,
    culprits: [],
    attemptCount: 1,
    blamelessRefusals: {},
  };
  const attempt: AttemptRecord = {
    id: '00000000-0000-4000-8000-00000000000c',
    requestId: request.id,
    seq: 1,
    status: 'signing',
    participants: list.map((c) => key.members.find((m) => m.identifier === c.identifier)!.nodeId),
    commitments: list,
    deadline: request.deadline,
    startedAt: now,
    endedAt: null,
    failureReason: null,
  };
  const shares: ShareRecord[] = rounds.map((r) => ({
    attemptId: attempt.id,
    requestId: request.id,
    nodeId: key.members.find((m) => m.identifier === r.id)!.nodeId,
    identifier: r.id,
    share: signShare(dealt.public, r.id, dealt.secretShares[r.id]!, r.nonces, list, hexToBytes(MESSAGE)),
    valid: null,
    receivedAt: now,
  }));
  const state: RequestState = { request, key, labels: new Map(), identityKeys: new Map(), attempts: [attempt], commitments: [], shares, presence: new Map(), asked: new Map(), decisions: new Map() };
  const audit: AuditEntryInput[] = [];
  const tx = {
    shares: { setValidity: vi.fn(() => Promise.resolve()) },
    attempts: { update: vi.fn(() => Promise.resolve()) },
    commitments: { burnForRequest: vi.fn(() => Promise.resolve()) },
    requests: { update: vi.fn(() => Promise.resolve()) },
    audit: { appendAll: vi.fn((entries: AuditEntryInput[]) => Promise.resolve(void audit.push(...entries))) },
    webhooks: { enqueue: vi.fn(() => Promise.resolve()) },
    cluster: { saveAsks: vi.fn(() => Promise.resolve()), relay: vi.fn(() => Promise.resolve()), announceSettled: vi.fn(() => Promise.resolve()) },
  };
  const ctx: SessionContext = {
    link: { isConnected: () => true } as unknown as SessionContext['link'],
    settings: { attemptStaggerMs: 0 } as unknown as SessionContext['settings'],
    timers: new DeadlineTimers(() => undefined),
    settled: new EventEmitter(),
    scheduleLook: () => undefined,
  };
  const ev = new RequestEvent(tx as unknown as Repositories, state, ctx);
  return { ev, attempt, audit, tx };
}

/** The real aggregate, with z of its signature set to zero (what no real shares can produce). */
const zeroZ: typeof aggregateOrBlame = (...args) => {
  const result = aggregateOrBlame(...args);
  return result.ok ? { ok: true, signature: `${result.signature.slice(0, 66)}${'00'.repeat(32)}` } : result;
};

describe('finishAttempt', () => {
  it('completes a secp256k1 request with the real aggregate (the control)', async () => {
    const { ev, attempt, audit } = fixture('secp256k1');
    await expect(finishAttempt(ev, attempt)).resolves.toEqual({ completed: true });
    await ev.flush();
    expect(ev.state.request.status).toBe('completed');
    expect(ev.state.request.signature).toMatch(/^[0-9a-f]{130}$/);
    expect(audit.map((e) => e.action)).toContain('signature.produced');
  });

  it('never releases a secp256k1 signature whose z is 0: the attempt fails with no culprit, audited with the reason', async () => {
    const { ev, attempt, audit, tx } = fixture('secp256k1');
    await expect(finishAttempt(ev, attempt, zeroZ)).resolves.toEqual({ completed: false, culprits: [] });
    await ev.flush();
    expect(ev.state.request.signature).toBeNull();
    // back to collecting commitments: the members remain eligible, so ROAST starts a new attempt
    expect(ev.state.request.status).toBe('committing');
    expect(ev.state.request.culprits).toEqual([]);
    expect(attempt.status).toBe('failed');
    expect(attempt.failureReason).toMatch(/^signature not released: z is zero/);
    expect(audit.map((e) => e.action)).not.toContain('signature.produced');
    const failed = audit.find((e) => e.action === 'attempt.failed');
    expect(failed?.details).toMatchObject({ reason: expect.stringMatching(/z is zero/) as unknown, seq: 1, status: 'failed' });
    // every share was valid: none is blamed, and each participant is told to burn its nonces
    expect(tx.shares.setValidity.mock.calls.map((c: unknown[]) => c[3])).toEqual([true, true]);
    expect(ev.out.filter(([, f]) => f.type === 'attempt.abort').map(([nodeId]) => nodeId).sort()).toEqual([...nodeIds].sort());
    expect(tx.commitments.burnForRequest).not.toHaveBeenCalled();
  });

  it('does not apply the EVM rule to other suites (ed25519 has no z = 0 restriction here)', async () => {
    const { ev, attempt } = fixture('ed25519');
    const zeroS: typeof aggregateOrBlame = (...args) => {
      const result = aggregateOrBlame(...args);
      return result.ok ? { ok: true, signature: `${result.signature.slice(0, 64)}${'00'.repeat(32)}` } : result;
    };
    await expect(finishAttempt(ev, attempt, zeroS)).resolves.toEqual({ completed: true });
  });
});
