import { describe, expect, it } from 'vitest';
import type { CeremonyShareRecord } from '#domain';
import { aCeremony, aNode, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

describe('ceremony repository', () => {
  const t = useMigratedStore();


  it('round-trips ceremonies, updates them and lists the open ones', async () => {
    const open = aCeremony();
    const done = aCeremony({ status: 'failed', failureCode: 'DEADLINE_PASSED', completedAt: at('2026-03-01T10:02:00.000Z') });
    await t.store.transaction(async (tx) => {
      await tx.ceremonies.insert(open);
      await tx.ceremonies.insert(done);
    });
    expect(await t.store.read.ceremonies.findById(open.id)).toEqual(open);
    expect(await t.store.read.ceremonies.findById('not-a-uuid')).toBeNull();
    expect((await t.store.read.ceremonies.listOpen()).map((c) => c.id)).toEqual([open.id]);
    const culprit = open.participants[1]!.nodeId;
    await t.store.transaction((tx) =>
      tx.ceremonies.update(open.id, { status: 'failed', culprits: [culprit], culpritNodeId: culprit, updatedAt: at('2026-03-01T10:03:00.000Z') }),
    );
    expect(await t.store.read.ceremonies.findById(open.id)).toMatchObject({ status: 'failed', culprits: [culprit], culpritNodeId: culprit });
    expect(await t.store.read.ceremonies.listOpen()).toEqual([]);
    expect((await t.store.read.ceremonies.list({ status: 'failed', limit: 10, offset: 0 })).length).toBeGreaterThanOrEqual(2);
    await expect(t.store.transaction((tx) => tx.ceremonies.insert(aCeremony({ status: 'done' as never })))).rejects.toThrow();
  });

  it('stores sealed round-2 shares once per (sender, recipient) and results once per node', async () => {
    const node = aNode();
    const ceremony = aCeremony();
    await t.store.transaction(async (tx) => {
      await tx.nodes.insert(node);
      await tx.ceremonies.insert(ceremony);
    });
    const share = (from: string, to: string, transcriptSignature: string | null = 'ef'.repeat(64)): CeremonyShareRecord => ({
      ceremonyId: ceremony.id,
      fromIdentifier: from,
      toIdentifier: to,
      transcriptHash: 'cd'.repeat(32),
      transcriptSignature,
      sealed: { from, to, ephemeral: '11'.repeat(32), nonce: '22'.repeat(24), ciphertext: '33'.repeat(48) },
      receivedAt: at('2026-03-01T10:00:01.000Z'),
    });
    const [a, b] = ceremony.participants.map((p) => p.identifier) as [string, string];
    // A row stored before migration 0003 has no transcript signature.
    await t.store.transaction((tx) => tx.ceremonies.insertShares([share(a, b), share(b, a, null)]));
    expect(await t.store.read.ceremonies.listShares(ceremony.id)).toEqual([share(a, b), share(b, a, null)]);
    await expect(t.store.transaction((tx) => tx.ceremonies.insertShares([share(a, b)]))).rejects.toThrow();
    const result = { groupPublicKey: '02'.repeat(33), commitments: ['02'.repeat(33)], verifyingShares: { [a]: '03'.repeat(33) }, signature: 'ee'.repeat(64) };
    await t.store.transaction((tx) => tx.ceremonies.insertResult({ ceremonyId: ceremony.id, nodeId: node.id, result, receivedAt: at('2026-03-01T10:00:02.000Z') }));
    expect(await t.store.read.ceremonies.listResults(ceremony.id)).toEqual([
      { ceremonyId: ceremony.id, nodeId: node.id, result, receivedAt: at('2026-03-01T10:00:02.000Z') },
    ]);
  });
});
