import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ChainVerifier, GENESIS_HASH, type ChainVerdict } from '#audit';
import type { AuditEntry } from '#domain';
import { aNode, anAuditInput, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

describe('audit repository', () => {
  const t = useMigratedStore();

  /** Verifies the whole chain, reading it in small batches as the audit service does. */
  async function verifyChain(): Promise<ChainVerdict> {
    const verifier = new ChainVerifier();
    for (let after = 0; ; ) {
      const batch = await t.store.read.audit.listAfter(after, 7);
      if (batch.length === 0) return verifier.result();
      for (const entry of batch) verifier.push(entry);
      after = batch.at(-1)!.seq;
    }
  }

  const head = async (): Promise<AuditEntry | undefined> => (await t.store.read.audit.listAfter(0, 1_000_000)).at(-1);

  it('chains entries from the genesis hash, returning what it stored', async () => {
    const input = anAuditInput({
      occurredAt: at('2026-05-01T12:00:00.123Z'),
      actorKind: 'admin',
      actorId: 'alice',
      action: 'key.registered',
      keyId: randomUUID(),
      details: { zeta: 1, alpha: { b: [true, null, 'x'], a: 2 } },
    });
    const first = await t.store.transaction((tx) => tx.audit.append(input));
    const [second, third] = await t.store.transaction(async (tx) => [
      await tx.audit.append(anAuditInput({ action: 'request.created' })),
      await tx.audit.append(anAuditInput({ action: 'request.proposed' })),
    ]);

    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, requestId: null, attemptId: null, nodeId: null, ...input });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(third).toMatchObject({ seq: 3, prevHash: second.hash });
    expect(await t.store.read.audit.listAfter(0, 3)).toEqual([first, second, third]);
    expect(await verifyChain()).toEqual({ ok: true, checked: 3, headHash: third.hash });
  });

  it('hashes the details as stored, so a Date or an undefined field cannot break the chain', async () => {
    const entry = await t.store.read.audit.append(anAuditInput({ details: { when: new Date('2026-05-01T00:00:00.000Z'), gone: undefined } }));
    expect(entry.details).toEqual({ when: '2026-05-01T00:00:00.000Z' });
    expect((await t.store.read.audit.listAfter(entry.seq - 1, 1))[0]).toEqual(entry);
    expect((await verifyChain()).ok).toBe(true);
  });

  it('appends in a transaction of its own when called outside one', async () => {
    const before = await head();
    const entry = await t.store.read.audit.append(anAuditInput());
    expect(entry.seq).toBe(before!.seq + 1);
    expect(entry.prevHash).toBe(before!.hash);
  });

  it('keeps one unbroken chain under concurrent transactions', async () => {
    const before = (await head())?.seq ?? 0;
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        t.store.transaction(async (tx) => {
          await tx.nodes.insert(aNode());
          await tx.audit.append(anAuditInput({ action: 'node.enrolled', details: { i } }));
          await delay(i % 3);
          await tx.audit.append(anAuditInput({ action: 'node.connected', details: { i } }));
        }),
      ),
    );
    const entries = await t.store.read.audit.listAfter(before, 100);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 32 }, (_, i) => before + i + 1));
    expect((await verifyChain()).ok).toBe(true);
  });

  it('leaves neither entry nor state behind when the transaction rolls back', async () => {
    const before = await head();
    const node = aNode();
    await expect(
      t.store.transaction(async (tx) => {
        await tx.nodes.insert(node);
        await tx.audit.append(anAuditInput({ action: 'node.enrolled', nodeId: node.id }));
        throw new Error('enrolment failed late');
      }),
    ).rejects.toThrow('enrolment failed late');
    expect(await head()).toEqual(before);
    expect(await t.store.read.nodes.findById(node.id)).toBeNull();
    expect(await t.store.read.audit.query({ nodeId: node.id, limit: 10 })).toEqual([]);
    // The next entry continues the chain with no gap.
    expect((await t.store.read.audit.append(anAuditInput())).seq).toBe(before!.seq + 1);
    expect((await verifyChain()).ok).toBe(true);
  });

  it('filters by every field, pages by seq and bounds by time', async () => {
    const requestId = randomUUID();
    const keyId = randomUUID();
    const attemptId = randomUUID();
    const nodeId = randomUUID();
    const entries = await t.store.transaction(async (tx) => [
      await tx.audit.append(anAuditInput({ occurredAt: at('2030-01-01T00:00:01.000Z'), action: 'request.created', requestId, keyId })),
      await tx.audit.append(anAuditInput({ occurredAt: at('2030-01-01T00:00:02.000Z'), action: 'attempt.started', requestId, keyId, attemptId })),
      await tx.audit.append(anAuditInput({ occurredAt: at('2030-01-01T00:00:03.000Z'), action: 'share.received', requestId, keyId, attemptId, nodeId })),
      await tx.audit.append(anAuditInput({ occurredAt: at('2030-01-01T00:00:04.000Z'), action: 'signature.produced', requestId, keyId, attemptId })),
    ]);
    const seqs = (list: AuditEntry[]) => list.map((e) => e.seq);
    const [e1, e2, e3, e4] = entries.map((e) => e.seq);

    expect(await t.store.read.audit.query({ requestId, limit: 10 })).toEqual(entries);
    expect(seqs(await t.store.read.audit.query({ keyId, limit: 10 }))).toEqual([e1, e2, e3, e4]);
    expect(seqs(await t.store.read.audit.query({ attemptId, limit: 10 }))).toEqual([e2, e3, e4]);
    expect(seqs(await t.store.read.audit.query({ nodeId, limit: 10 }))).toEqual([e3]);
    expect(seqs(await t.store.read.audit.query({ requestId, action: 'attempt.started', limit: 10 }))).toEqual([e2]);
    expect(seqs(await t.store.read.audit.query({ requestId, afterSeq: e1, limit: 2 }))).toEqual([e2, e3]);
    expect(seqs(await t.store.read.audit.query({ requestId, afterSeq: e3, limit: 2 }))).toEqual([e4]);
    expect(
      seqs(await t.store.read.audit.query({ requestId, from: at('2030-01-01T00:00:02.000Z'), to: at('2030-01-01T00:00:03.000Z'), limit: 10 })),
    ).toEqual([e2, e3]);
    expect(seqs(await t.store.read.audit.query({ requestId, from: at('2030-01-01T00:00:04.000Z'), limit: 10 }))).toEqual([e4]);
    expect(seqs(await t.store.read.audit.query({ requestId, to: at('2030-01-01T00:00:01.000Z'), limit: 10 }))).toEqual([e1]);
    expect(await t.store.read.audit.query({ requestId: 'not-even-a-uuid', limit: 10 })).toEqual([]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on audit_log (trigger)', async () => {
    const target = (await head())!;
    await expect(t.dataSource.query(`UPDATE audit_log SET actor_id = 'mallory' WHERE seq = $1`, [target.seq])).rejects.toThrow(
      /audit_log is append-only/,
    );
    await expect(t.dataSource.query('DELETE FROM audit_log WHERE seq = $1', [target.seq])).rejects.toThrow(/audit_log is append-only/);
    await expect(t.dataSource.query('TRUNCATE audit_log')).rejects.toThrow(/audit_log is append-only/);
    expect(await head()).toEqual(target);
  });

  it('lets the chain verifier name an entry tampered with behind the trigger', async () => {
    const victim = (await t.store.read.audit.listAfter(1, 1))[0]!;
    const rewrite = async (details: Record<string, unknown>) => {
      // Only a superuser can do this; the point is that the chain still gives it away.
      await t.dataSource.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
      try {
        await t.dataSource.query('UPDATE audit_log SET details = $1 WHERE seq = $2', [JSON.stringify(details), victim.seq]);
      } finally {
        await t.dataSource.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
      }
    };
    await rewrite({ ...victim.details, note: 'nothing to see here' });
    try {
      expect(await verifyChain()).toEqual({ ok: false, checked: victim.seq - 1, brokenAt: { seq: victim.seq, id: victim.id, reason: 'hash_mismatch' } });
    } finally {
      await rewrite(victim.details);
    }
    expect((await verifyChain()).ok).toBe(true);
  });
});
