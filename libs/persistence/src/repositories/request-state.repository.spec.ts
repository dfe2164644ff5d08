import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '#domain';
import { aCommitment, aKey, aNode, anAttempt, aRequest, aShare, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

describe('request state repository (one read per event)', () => {
  const ctx = useMigratedStore();

  it('reads every table an event works on, in the orders the scheduler relies on', async () => {
    const repos = ctx.store.read;
    const nodes = [aNode(), aNode(), aNode()];
    for (const n of nodes) await repos.nodes.insert(n);
    const key = aKey(nodes);
    await repos.keys.insert(key);
    const request = aRequest(key);
    await repos.requests.insert(request);
    const first = anAttempt(request, { seq: 1, status: 'failed', endedAt: at('2026-01-03T00:00:50.000Z'), failureReason: 'x', participants: [nodes[0]!.id, nodes[1]!.id] });
    const second = anAttempt(request, { seq: 2, participants: [nodes[1]!.id, nodes[2]!.id] });
    await repos.attempts.insert(second);
    await repos.attempts.insert(first);
    const c0 = aCommitment(request, key, 0, { status: 'assigned', attemptId: second.id, receivedAt: at('2026-01-03T00:00:12.000Z') });
    const c1 = aCommitment(request, key, 1, { receivedAt: at('2026-01-03T00:00:11.000Z') });
    const burned = aCommitment(request, key, 2, { status: 'burned' });
    for (const c of [c0, c1, burned]) await repos.commitments.insert(c);
    const s1 = aShare(first, key, 1, { valid: false, receivedAt: at('2026-01-03T00:00:45.000Z') });
    const s0 = aShare(first, key, 0, { receivedAt: at('2026-01-03T00:00:41.000Z') });
    await repos.shares.insert(s1);
    await repos.shares.insert(s0);
    const decided: DecisionRecord = {
      requestId: request.id,
      nodeId: nodes[0]!.id,
      verdict: 'approve',
      by: 'policy',
      policyHash: 'aa'.repeat(32),
      rule: 'r',
      reason: 'allowed',
      decidedAt: at('2026-01-03T00:00:05.123Z'),
      signature: 'bb'.repeat(64),
      proposedAt: at('2026-01-03T00:00:01.000Z'),
      awaitingSince: null,
      receivedAt: at('2026-01-03T00:00:06.000Z'),
    };
    await repos.decisions.save(decided);
    await repos.decisions.markProposed(request.id, [nodes[1]!.id], at('2026-01-03T00:00:02.000Z'));

    const reads = await repos.requestState.load(request.id, nodes.map((n) => n.id), new Date(0));
    expect(reads.attempts).toEqual(await repos.attempts.listForRequest(request.id));
    expect(reads.attempts.map((a) => a.seq)).toEqual([1, 2]);
    // The live ones, oldest first (the burned one is not read).
    expect(reads.commitments).toEqual([c1, c0]);
    // In arrival order.
    expect(reads.shares).toEqual([s0, s1]);
    expect(reads.decisions).toEqual(await repos.decisions.listForRequests([request.id]));
    expect(reads.decisions.find((d) => d.nodeId === decided.nodeId)).toEqual(decided);
    expect(reads.presence).toEqual([]);
    expect(reads.asked).toEqual([]);
  });

  it("reads a request by id with plain SQL exactly as TypeORM's entity reads it", async () => {
    const repos = ctx.store.read;
    const nodes = [aNode(), aNode()];
    for (const n of nodes) await repos.nodes.insert(n);
    const key = aKey(nodes);
    await repos.keys.insert(key);
    const plain = aRequest(key);
    const updated = aRequest(key, { intent: { sequence: 7, chainId: 1 }, idempotencyKey: 'idem-1' });
    for (const r of [plain, updated]) await repos.requests.insert(r);
    await repos.requests.update(updated.id, {
      status: 'failed',
      culprits: [{ nodeId: nodes[0]!.id, reason: 'declined', detail: 'no' }],
      blamelessRefusals: { [nodes[1]!.id]: 2 },
      failureCode: 'REJECTED',
      failureReason: 'rejected',
      completedAt: at('2026-01-03T00:05:00.000Z'),
      wakeAt: at('2026-01-03T00:04:00.000Z'),
    });
    const listed = await repos.requests.list({ keyId: key.id, limit: 10, offset: 0 });
    for (const r of [plain, updated]) {
      const viaEntity = listed.find((x) => x.id === r.id);
      expect(await repos.requests.findById(r.id)).toEqual(viaEntity);
      expect(await ctx.store.transaction((tx) => tx.requests.findByIdForUpdate(r.id))).toEqual(viaEntity);
    }
    expect(await repos.requests.findById('not-a-uuid')).toBeNull();
  });

  it('reads nothing for an id that is not a UUID', async () => {
    expect(await ctx.store.read.requestState.load('nope', [], new Date())).toEqual({ attempts: [], commitments: [], shares: [], decisions: [], presence: [], asked: [] });
  });
});
