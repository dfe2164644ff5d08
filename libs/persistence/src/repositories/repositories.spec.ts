import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CommitmentReusedError, type KeyRecord, type NodeRecord, type SigningRequestRecord } from '#domain';
import { aCommitment, aKey, aNode, anAttempt, aRequest, aShare, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

describe('repositories', () => {
  const t = useMigratedStore();
  /** What an event reads of a request (request-state.repository): its live commitments, its shares. */
  const eventReads = (requestId: string) => t.store.read.requestState.load(requestId, [], new Date(0));
  const liveCommitments = async (requestId: string) => (await eventReads(requestId)).commitments;
  const sharesOf = async (requestId: string) => (await eventReads(requestId)).shares;

  /** Three enrolled nodes and an active 2-of-3 key over them. */
  async function aKeyWithNodes(): Promise<{ nodes: NodeRecord[]; key: KeyRecord }> {
    const nodes = [aNode(), aNode(), aNode()];
    const key = aKey(nodes);
    await t.store.transaction(async (tx) => {
      for (const node of nodes) await tx.nodes.insert(node);
      await tx.keys.insert(key);
    });
    return { nodes, key };
  }

  async function aStoredRequest(key: KeyRecord, overrides: Partial<SigningRequestRecord> = {}): Promise<SigningRequestRecord> {
    const request = aRequest(key, overrides);
    await t.store.transaction((tx) => tx.requests.insert(request));
    return request;
  }

  describe('nodes', () => {
    it('round-trips, finds by public key, revokes and touches', async () => {
      const node = aNode({ label: 'alpha' });
      await t.store.transaction((tx) => tx.nodes.insert(node));
      expect(await t.store.read.nodes.findById(node.id)).toEqual(node);
      expect(await t.store.read.nodes.findByPublicKey(node.publicKey)).toEqual(node);
      expect(await t.store.read.nodes.findByPublicKey('ff'.repeat(32))).toBeNull();
      expect(await t.store.read.nodes.list()).toContainEqual(node);

      await t.store.transaction(async (tx) => {
        await tx.nodes.touch(node.id, at('2026-03-01T10:00:00.123Z'));
        await tx.nodes.revoke(node.id, at('2026-03-02T10:00:00.456Z'));
      });
      expect(await t.store.read.nodes.findById(node.id)).toEqual({
        ...node,
        status: 'revoked',
        revokedAt: at('2026-03-02T10:00:00.456Z'),
        lastSeenAt: at('2026-03-01T10:00:00.123Z'),
      });
    });

    it('answers "not found" for ids that are not uuids, and refuses writes to unknown nodes', async () => {
      expect(await t.store.read.nodes.findById('not-a-uuid')).toBeNull();
      await expect(t.store.transaction((tx) => tx.nodes.touch(aNode().id, new Date()))).rejects.toThrow(/not found/);
    });

    it('records a reported policy hash and returns the one it replaces', async () => {
      const node = aNode();
      await t.store.transaction((tx) => tx.nodes.insert(node));
      const first = await t.store.transaction((tx) => tx.nodes.reportPolicy(node.id, 'aa'.repeat(32), at('2026-03-01T10:00:00.123Z')));
      expect(first).toEqual({ previous: null });
      const second = await t.store.transaction((tx) => tx.nodes.reportPolicy(node.id, 'bb'.repeat(32), at('2026-03-02T10:00:00.456Z')));
      expect(second).toEqual({ previous: 'aa'.repeat(32) });
      expect(await t.store.read.nodes.findById(node.id)).toEqual({ ...node, policyHash: 'bb'.repeat(32), policyReportedAt: at('2026-03-02T10:00:00.456Z') });
      await expect(t.store.transaction((tx) => tx.nodes.reportPolicy(aNode().id, 'aa'.repeat(32), new Date()))).rejects.toThrow(/not found/);
    });

    it('keeps public keys unique', async () => {
      const node = aNode();
      await t.store.transaction((tx) => tx.nodes.insert(node));
      await expect(t.store.transaction((tx) => tx.nodes.insert(aNode({ publicKey: node.publicKey })))).rejects.toMatchObject({
        code: 'NODE_ALREADY_ENROLLED',
      });
    });
  });

  describe('keys', () => {
    it('round-trips a key with its members and public package', async () => {
      const { nodes, key } = await aKeyWithNodes();
      expect(await t.store.read.keys.findById(key.id)).toEqual(key);
      expect(await t.store.read.keys.list()).toContainEqual(key);
      expect(await t.store.read.keys.listActiveForNode(nodes[1]!.id)).toEqual([key]);
      expect(await t.store.read.keys.findById('nope')).toBeNull();
    });

    it('lists only the active keys a node is a member of', async () => {
      const { nodes, key } = await aKeyWithNodes();
      const retired = aKey(nodes, { status: 'retired' });
      const other = (await aKeyWithNodes()).key;
      await t.store.transaction((tx) => tx.keys.insert(retired));
      const ids = (await t.store.read.keys.listActiveForNode(nodes[0]!.id)).map((k) => k.id);
      expect(ids).toEqual([key.id]);
      expect(ids).not.toContain(other.id);
    });

    it('rejects a member that is not an enrolled node, inserting nothing', async () => {
      const key = aKey([aNode(), aNode()]);
      await expect(t.store.transaction((tx) => tx.keys.insert(key))).rejects.toThrow(/key_members_node_id_fkey/);
      expect(await t.store.read.keys.findById(key.id)).toBeNull();
    });
  });

  describe('signing requests', () => {
    it('round-trips, finds by idempotency key, updates and locks', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key, { idempotencyKey: `idem-${key.id}`, messageEncoding: 'utf8', message: '68656c6c6f' });
      expect(await t.store.read.requests.findById(request.id)).toEqual(request);
      expect(await t.store.read.requests.findByIdempotencyKey(`idem-${key.id}`)).toEqual(request);
      expect(await t.store.read.requests.findByIdempotencyKey('unknown')).toBeNull();

      const culprits = [{ nodeId: key.members[0]!.nodeId, reason: 'invalid_share' as const, attemptId: request.id, detail: 'bad z' }];
      await t.store.transaction(async (tx) => {
        expect(await tx.requests.findByIdForUpdate(request.id)).toEqual(request);
        await tx.requests.update(request.id, {
          status: 'completed',
          signature: 'ab'.repeat(64),
          completedAt: at('2026-01-03T00:02:00.000Z'),
          updatedAt: at('2026-01-03T00:02:00.000Z'),
          culprits,
          attemptCount: 2,
          failureReason: undefined,
        });
      });
      expect(await t.store.read.requests.findById(request.id)).toEqual({
        ...request,
        status: 'completed',
        signature: 'ab'.repeat(64),
        completedAt: at('2026-01-03T00:02:00.000Z'),
        updatedAt: at('2026-01-03T00:02:00.000Z'),
        culprits,
        attemptCount: 2,
      });
    });

    it('holds the row lock of findByIdForUpdate until the transaction ends', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const events: string[] = [];
      let signalLocked!: () => void;
      const locked = new Promise<void>((resolve) => (signalLocked = resolve));
      const holder = t.store.transaction(async (tx) => {
        await tx.requests.findByIdForUpdate(request.id);
        events.push('first locked');
        signalLocked();
        await delay(100);
        await tx.requests.update(request.id, { status: 'committing' });
        events.push('first updated');
      });
      await locked;
      const seen = await t.store.transaction(async (tx) => {
        const row = await tx.requests.findByIdForUpdate(request.id);
        events.push('second locked');
        return row?.status;
      });
      await holder;
      expect(events).toEqual(['first locked', 'first updated', 'second locked']);
      expect(seen).toBe('committing');
    });

    it('refuses a second request with the same idempotency key', async () => {
      const { key } = await aKeyWithNodes();
      await aStoredRequest(key, { idempotencyKey: `dup-${key.id}` });
      await expect(aStoredRequest(key, { idempotencyKey: `dup-${key.id}` })).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
    });

    it('lists open requests oldest first, and filters and pages the full list newest first', async () => {
      const { key } = await aKeyWithNodes();
      const older = await aStoredRequest(key, { status: 'committing', createdAt: at('2026-01-04T00:00:00.000Z') });
      const newer = await aStoredRequest(key, { status: 'pending', createdAt: at('2026-01-04T00:05:00.000Z') });
      const done = await aStoredRequest(key, { status: 'completed', createdAt: at('2026-01-04T00:10:00.000Z') });

      const open = (await t.store.read.requests.listOpen()).map((r) => r.id);
      expect(open).toContain(older.id);
      expect(open.indexOf(older.id)).toBeLessThan(open.indexOf(newer.id));
      expect(open).not.toContain(done.id);

      const forKey = (filter: { status?: 'pending' | 'completed'; limit: number; offset: number }) =>
        t.store.read.requests.list({ keyId: key.id, ...filter }).then((rows) => rows.map((r) => r.id));
      expect(await forKey({ limit: 10, offset: 0 })).toEqual([done.id, newer.id, older.id]);
      expect(await forKey({ limit: 1, offset: 1 })).toEqual([newer.id]);
      expect(await forKey({ status: 'completed', limit: 10, offset: 0 })).toEqual([done.id]);
      expect(await t.store.read.requests.list({ keyId: 'garbage', limit: 10, offset: 0 })).toEqual([]);
    });
  });

  describe('attempts', () => {
    it('round-trips, scopes lookups to the request, lists in seq order and ends an attempt', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const participants = key.members.slice(0, 2).map((m) => m.nodeId);
      const commitments = key.members.slice(0, 2).map((m) => ({ identifier: m.identifier, hiding: '02aa', binding: '03bb' }));
      const second = anAttempt(request, { seq: 2, participants, commitments });
      const first = anAttempt(request, { seq: 1, participants, commitments });
      await t.store.transaction(async (tx) => {
        await tx.attempts.insert(second);
        await tx.attempts.insert(first);
      });
      const otherRequest = await aStoredRequest(key);

      expect(await t.store.read.attempts.findByIdAnyRequest(first.id)).toEqual(first);
      expect(await t.store.read.attempts.listForRequest(otherRequest.id)).toEqual([]);
      expect(await t.store.read.attempts.listForRequest(request.id)).toEqual([first, second]);

      await t.store.transaction((tx) =>
        tx.attempts.update(request.id, first.id, { status: 'failed', endedAt: at('2026-01-03T00:00:50.000Z'), failureReason: 'invalid share' }),
      );
      await t.store.transaction((tx) => tx.attempts.update(request.id, second.id, { status: 'completed', endedAt: at('2026-01-03T00:00:55.000Z') }));
      expect(await t.store.read.attempts.listForRequest(request.id)).toEqual([
        { ...first, status: 'failed', endedAt: at('2026-01-03T00:00:50.000Z'), failureReason: 'invalid share' },
        { ...second, status: 'completed', endedAt: at('2026-01-03T00:00:55.000Z') },
      ]);
      await expect(
        t.store.transaction((tx) => tx.attempts.update(otherRequest.id, first.id, { status: 'aborted', endedAt: new Date() })),
      ).rejects.toThrow(/not found/);
    });

    it('refuses a second attempt with the same seq', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      await t.store.transaction((tx) => tx.attempts.insert(anAttempt(request, { seq: 1 })));
      await expect(t.store.transaction((tx) => tx.attempts.insert(anAttempt(request, { seq: 1 })))).rejects.toThrow(
        /signing_attempts_request_id_seq_key/,
      );
    });
  });

  describe('commitments', () => {
    it('round-trips and moves through ready, assigned, used and burned', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const c0 = aCommitment(request, key, 0, { receivedAt: at('2026-01-03T00:00:01.000Z') });
      const c1 = aCommitment(request, key, 1, { receivedAt: at('2026-01-03T00:00:02.000Z') });
      const c2 = aCommitment(request, key, 2, { receivedAt: at('2026-01-03T00:00:03.000Z') });
      await t.store.transaction(async (tx) => {
        for (const c of [c2, c0, c1]) await tx.commitments.insert(c);
      });
      expect(await liveCommitments(request.id)).toEqual([c0, c1, c2]);

      const attempt = anAttempt(request);
      await t.store.transaction(async (tx) => {
        await tx.attempts.insert(attempt);
        await tx.commitments.assign(request.id, [c0.id, c1.id], attempt.id);
      });
      const assigned = (c: typeof c0) => ({ ...c, status: 'assigned', attemptId: attempt.id });
      expect(await liveCommitments(request.id)).toEqual([assigned(c0), assigned(c1), c2]);

      await t.store.transaction((tx) => tx.commitments.markUsed(request.id, attempt.id, c0.nodeId));
      expect(await liveCommitments(request.id)).toEqual([assigned(c1), c2]);
      expect(await t.store.transaction((tx) => tx.commitments.burnForRequest(request.id, c1.nodeId))).toBe(1);
      expect(await liveCommitments(request.id)).toEqual([c2]);
    });

    it('refuses to assign a commitment that is not ready, assigning none', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const ready = aCommitment(request, key, 0);
      const burned = aCommitment(request, key, 1, { status: 'burned' });
      const attempt = anAttempt(request);
      await t.store.transaction(async (tx) => {
        await tx.commitments.insert(ready);
        await tx.commitments.insert(burned);
        await tx.attempts.insert(attempt);
      });
      await expect(
        t.store.transaction((tx) => tx.commitments.assign(request.id, [ready.id, burned.id], attempt.id)),
      ).rejects.toThrow(/assigned 1 of 2/);
      expect(await liveCommitments(request.id)).toEqual([ready]);
    });

    it('burns the live commitments of a request, or of one node in it', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const commitments = [0, 1, 2].map((m) => aCommitment(request, key, m));
      await t.store.transaction(async (tx) => {
        for (const c of commitments) await tx.commitments.insert(c);
      });
      expect(await t.store.transaction((tx) => tx.commitments.burnForRequest(request.id, commitments[0]!.nodeId))).toBe(1);
      expect(await t.store.transaction((tx) => tx.commitments.burnForRequest(request.id))).toBe(2);
      expect(await t.store.transaction((tx) => tx.commitments.burnForRequest(request.id))).toBe(0);
      expect(await liveCommitments(request.id)).toEqual([]);
    });

    it('refuses a nonce element ever seen for the key, in either position, even burned or in another request', async () => {
      const { key } = await aKeyWithNodes();
      const first = await aStoredRequest(key);
      const second = await aStoredRequest(key);
      const original = aCommitment(first, key, 0, { status: 'burned' });
      await t.store.transaction((tx) => tx.commitments.insert(original));

      const reuses = {
        hiding: aCommitment(second, key, 0, { hiding: original.hiding }),
        binding: aCommitment(second, key, 1, { binding: original.binding }),
        swapped: aCommitment(second, key, 0, { hiding: original.binding, binding: original.hiding }),
        'hiding as binding': aCommitment(second, key, 1, { binding: original.hiding }),
        'binding as hiding': aCommitment(second, key, 2, { hiding: original.binding }),
      };
      for (const [what, reused] of Object.entries(reuses)) {
        await expect(t.store.transaction((tx) => tx.commitments.insert(reused)), what).rejects.toBeInstanceOf(CommitmentReusedError);
      }
      await expect(t.store.read.commitments.insert(reuses.binding)).rejects.toBeInstanceOf(CommitmentReusedError);
      expect(await liveCommitments(second.id)).toEqual([]);
    });

    it('accepts the same elements under a different key', async () => {
      const { key } = await aKeyWithNodes();
      const { key: otherKey } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const otherRequest = await aStoredRequest(otherKey);
      const original = aCommitment(request, key, 0);
      const sameElements = aCommitment(otherRequest, otherKey, 0, { hiding: original.hiding, binding: original.binding });
      await t.store.transaction((tx) => tx.commitments.insert(original));
      await t.store.transaction((tx) => tx.commitments.insert(sameElements));
      expect(await liveCommitments(otherRequest.id)).toEqual([sameElements]);
    });

    it('leaves the transaction usable after a refused commitment', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const original = aCommitment(request, key, 0, { receivedAt: at('2026-01-03T00:00:01.000Z') });
      await t.store.transaction((tx) => tx.commitments.insert(original));
      const fresh = aCommitment(request, key, 1, { receivedAt: at('2026-01-03T00:00:02.000Z') });
      const outcome = await t.store.transaction(async (tx) => {
        const refused = await tx.commitments.insert(aCommitment(request, key, 2, { hiding: original.hiding })).catch((e: unknown) => e);
        await tx.commitments.insert(fresh);
        await tx.audit.append({ occurredAt: new Date(), actorKind: 'node', actorId: fresh.nodeId, action: 'commitment.received', outcome: 'success', details: {} });
        return refused;
      });
      expect(outcome).toBeInstanceOf(CommitmentReusedError);
      expect(await liveCommitments(request.id)).toEqual([original, fresh]);
    });
  });

  describe('shares', () => {
    it('inserts once per node and attempt, lists a request\'s shares in arrival order and records validity', async () => {
      const { key } = await aKeyWithNodes();
      const request = await aStoredRequest(key);
      const attempt = anAttempt(request);
      await t.store.transaction((tx) => tx.attempts.insert(attempt));
      const share0 = aShare(attempt, key, 0, { receivedAt: at('2026-01-03T00:00:41.000Z') });
      const share1 = aShare(attempt, key, 1, { receivedAt: at('2026-01-03T00:00:42.000Z') });

      await t.store.transaction(async (tx) => {
        await tx.shares.insert(share1);
        await tx.shares.insert(share0);
      });
      await expect(t.store.transaction((tx) => tx.shares.insert({ ...share0, share: 'ee'.repeat(32) }))).rejects.toThrow(/signature_shares_pkey/);
      await t.store.transaction(async (tx) => {
        await tx.shares.setValidity(request.id, attempt.id, share0.nodeId, true);
        await tx.shares.setValidity(request.id, attempt.id, share1.nodeId, false);
      });
      expect(await sharesOf(request.id)).toEqual([
        { ...share0, valid: true },
        { ...share1, valid: false },
      ]);
      expect(await sharesOf((await aStoredRequest(key)).id)).toEqual([]);
    });
  });
});
