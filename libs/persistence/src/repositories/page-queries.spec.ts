import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DomainError, type CeremonyRecord, type CeremonyShareRecord } from '#domain';
import { aCeremony, aKey, aNode, anAttempt, aRequest, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

/** Reads that serve a whole page of a list endpoint at once, node restore, and unique violations typed. */
describe('repositories: page reads, restore, typed unique violations', () => {
  const t = useMigratedStore();

  it('lists the attempts of several requests in one call, by request then seq', async () => {
    const nodes = [aNode(), aNode()];
    const key = aKey(nodes);
    const [r1, r2, r3] = [aRequest(key), aRequest(key), aRequest(key)];
    const a12 = anAttempt(r1, { seq: 2 });
    const a11 = anAttempt(r1, { seq: 1 });
    const a21 = anAttempt(r2, { seq: 1 });
    await t.store.transaction(async (tx) => {
      for (const n of nodes) await tx.nodes.insert(n);
      await tx.keys.insert(key);
      for (const r of [r1, r2, r3]) await tx.requests.insert(r);
      for (const a of [a12, a11, a21]) await tx.attempts.insert(a);
    });
    const listed = await t.store.read.attempts.listForRequests([r1.id, r2.id, r3.id, 'not-a-uuid']);
    const byRequest = (id: string) => listed.filter((a) => a.requestId === id);
    expect(byRequest(r1.id)).toEqual([a11, a12]);
    expect(byRequest(r2.id)).toEqual([a21]);
    expect(listed).toHaveLength(3);
    expect(await t.store.read.attempts.listForRequests([])).toEqual([]);
  });

  it('finds several keys by id in one call, with their members', async () => {
    const nodes = [aNode(), aNode()];
    const [k1, k2] = [aKey(nodes), aKey(nodes)];
    await t.store.transaction(async (tx) => {
      for (const n of nodes) await tx.nodes.insert(n);
      await tx.keys.insert(k1);
      await tx.keys.insert(k2);
    });
    const found = await t.store.read.keys.findByIds([k2.id, k1.id, k1.id, randomUUID(), 'nope']);
    expect(found).toHaveLength(2);
    expect(found).toEqual(expect.arrayContaining([k1, k2]));
    expect(await t.store.read.keys.findByIds([])).toEqual([]);
  });

  it("lists the round-2 senders and the result senders of several ceremonies in one call each", async () => {
    const node = aNode();
    const ceremony = (): CeremonyRecord =>
      aCeremony({ status: 'round2', participants: [1, 2, 3].map((i) => ({ nodeId: randomUUID(), identifier: String(i).padStart(64, '0'), identityKey: 'ab'.repeat(32) })) });
    const [c1, c2, c3] = [ceremony(), ceremony(), ceremony()];
    const id = (i: number) => String(i).padStart(64, '0');
    const share = (c: CeremonyRecord, from: number, to: number): CeremonyShareRecord => ({
      ceremonyId: c.id,
      fromIdentifier: id(from),
      toIdentifier: id(to),
      transcriptHash: 'cd'.repeat(32),
      transcriptSignature: null,
      sealed: { from: id(from), to: id(to), ephemeral: '11'.repeat(32), nonce: '22'.repeat(24), ciphertext: '33'.repeat(48) },
      receivedAt: at('2026-03-01T10:00:01.000Z'),
    });
    const result = { groupPublicKey: '02'.repeat(33), commitments: ['02'.repeat(33)], verifyingShares: {}, signature: 'ee'.repeat(64) };
    await t.store.transaction(async (tx) => {
      await tx.nodes.insert(node);
      for (const c of [c1, c2, c3]) await tx.ceremonies.insert(c);
      // c1: senders 3 then 1 (each to two recipients); c2: sender 2; c3: none.
      await tx.ceremonies.insertShares([share(c1, 3, 1), share(c1, 3, 2), share(c1, 1, 2), share(c1, 1, 3), share(c2, 2, 1)]);
      await tx.ceremonies.insertResult({ ceremonyId: c2.id, nodeId: node.id, result, receivedAt: at('2026-03-01T10:00:02.000Z') });
    });
    const senders = await t.store.read.ceremonies.listRound2Senders([c1.id, c2.id, c3.id]);
    const of = (c: CeremonyRecord) => senders.filter((s) => s.ceremonyId === c.id).map((s) => s.fromIdentifier);
    expect(of(c1)).toEqual([id(1), id(3)]);
    expect(of(c2)).toEqual([id(2)]);
    expect(of(c3)).toEqual([]);
    expect(await t.store.read.ceremonies.listResultSenders([c1.id, c2.id, c3.id])).toEqual([{ ceremonyId: c2.id, nodeId: node.id }]);
    expect(await t.store.read.ceremonies.listRound2Senders([])).toEqual([]);
    expect(await t.store.read.ceremonies.listResultSenders(['nope'])).toEqual([]);
  });

  it('restores a revoked node: active again, revokedAt cleared', async () => {
    const node = aNode({ status: 'revoked', revokedAt: at('2026-03-02T10:00:00.000Z') });
    await t.store.transaction((tx) => tx.nodes.insert(node));
    await t.store.transaction((tx) => tx.nodes.restore(node.id));
    expect(await t.store.read.nodes.findById(node.id)).toEqual({ ...node, status: 'active', revokedAt: null });
    await expect(t.store.transaction((tx) => tx.nodes.restore(randomUUID()))).rejects.toThrow(/not found/);
  });

  it('turns a duplicate public key into NODE_ALREADY_ENROLLED and a duplicate key id into KEY_ALREADY_EXISTS', async () => {
    const node = aNode();
    await t.store.transaction((tx) => tx.nodes.insert(node));
    const duplicateNode = t.store.transaction((tx) => tx.nodes.insert(aNode({ publicKey: node.publicKey })));
    await expect(duplicateNode).rejects.toBeInstanceOf(DomainError);
    await expect(duplicateNode).rejects.toMatchObject({ code: 'NODE_ALREADY_ENROLLED' });

    const other = aNode();
    const key = aKey([node, other]);
    await t.store.transaction(async (tx) => {
      await tx.nodes.insert(other);
      await tx.keys.insert(key);
    });
    const duplicateKey = t.store.transaction((tx) => tx.keys.insert({ ...key, groupPublicKey: `02${'aa'.repeat(32)}` }));
    await expect(duplicateKey).rejects.toMatchObject({ code: 'KEY_ALREADY_EXISTS', message: `key ${key.id} already exists` });
    // Other violations keep their database error (a caller bug, not a conflict to report).
    await expect(t.store.transaction((tx) => tx.keys.insert(aKey([aNode(), aNode()])))).rejects.toThrow(/key_members_node_id_fkey/);
  });
});
