import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { aNode } from './testing/fixtures.js';
import { TransactionMisuseError } from './typeorm-store.js';
import { useMigratedStore } from './testing/migrated-store.js';

const embedded = !process.env.DATABASE_URL;

describe('TypeOrmStore', () => {
  const t = useMigratedStore();

  it('pings the database', async () => {
    await expect(t.store.ping()).resolves.toBeUndefined();
  });

  it('commits the work of a transaction and rolls it back when the callback throws', async () => {
    const kept = aNode();
    const dropped = aNode();
    await t.store.transaction((tx) => tx.nodes.insert(kept));
    await expect(
      t.store.transaction(async (tx) => {
        await tx.nodes.insert(dropped);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await t.store.read.nodes.findById(kept.id)).toEqual(kept);
    expect(await t.store.read.nodes.findById(dropped.id)).toBeNull();
  });

  it('runs the work again after a deadlock or serialization failure when asked to, and only then', async () => {
    const conflict = (code: string) => Object.assign(new Error(`conflict ${code}`), { code });
    let runs = 0;
    const node = aNode();
    const flaky = async (tx: Parameters<Parameters<typeof t.store.transaction>[0]>[0]) => {
      runs++;
      await tx.nodes.insert(runs === 1 ? aNode({ publicKey: node.publicKey }) : node);
      if (runs < 3) throw conflict(runs === 1 ? '40P01' : '40001');
      return runs;
    };
    await expect(t.store.transaction(flaky, { retries: 2 })).resolves.toBe(3);
    // Each failed run was rolled back: only the third run's node is there.
    expect(await t.store.read.nodes.findByPublicKey(node.publicKey)).toEqual(node);
    runs = 0;
    await expect(t.store.transaction(() => {
      runs++;
      return Promise.reject(conflict('40P01'));
    })).rejects.toThrow('conflict 40P01');
    expect(runs).toBe(1);
    runs = 0;
    await expect(t.store.transaction(
      () => {
        runs++;
        return Promise.reject(new Error('not a conflict'));
      },
      { retries: 2 },
    )).rejects.toThrow('not a conflict');
    expect(runs).toBe(1);
  });

  it('keeps concurrent transactions apart: no shared statements, no dirty reads, independent rollback', async () => {
    const rolledBack = aNode();
    const committed = aNode();
    const events: string[] = [];
    let signalInserted!: () => void;
    const inserted = new Promise<void>((resolve) => (signalInserted = resolve));

    const failing = t.store.transaction(async (tx) => {
      await tx.nodes.insert(rolledBack);
      events.push('first inserted');
      signalInserted();
      await delay(100);
      events.push('first failing');
      throw new Error('roll the first back');
    });
    await inserted;
    // The first transaction is open and holds an uncommitted row.
    const succeeding = t.store.transaction(async (tx) => {
      events.push('second running');
      const seen = await tx.nodes.findById(rolledBack.id);
      await tx.nodes.insert(committed);
      return seen;
    });

    await expect(failing).rejects.toThrow('roll the first back');
    expect(await succeeding).toBeNull();
    expect(await t.store.read.nodes.findById(rolledBack.id)).toBeNull();
    expect(await t.store.read.nodes.findById(committed.id)).toEqual(committed);
    // The embedded database has one session: the second transaction waits for the first to end.
    if (embedded) expect(events).toEqual(['first inserted', 'first failing', 'second running']);
  });

  it('commits every one of many concurrent transactions', async () => {
    const nodes = Array.from({ length: 12 }, () => aNode());
    await Promise.all(
      nodes.map((node) =>
        t.store.transaction(async (tx) => {
          await tx.nodes.insert(node);
          await delay(1);
          await tx.nodes.touch(node.id, new Date('2026-02-01T00:00:00.000Z'));
        }),
      ),
    );
    for (const node of nodes) {
      expect((await t.store.read.nodes.findById(node.id))?.lastSeenAt).toEqual(new Date('2026-02-01T00:00:00.000Z'));
    }
  });

  it('refuses t.store.read and nested transactions inside a transaction callback (they would deadlock the embedded database)', async () => {
    const node = aNode();
    await expect(t.store.transaction(() => t.store.read.nodes.findById(node.id))).rejects.toBeInstanceOf(TransactionMisuseError);
    await expect(t.store.transaction(() => t.store.transaction(() => Promise.resolve(1)))).rejects.toBeInstanceOf(TransactionMisuseError);

    // Work the callback leaves running may use the store once the transaction has ended.
    let later: Promise<unknown> = Promise.resolve();
    await t.store.transaction(async (tx) => {
      await tx.nodes.insert(node);
      later = delay(20).then(() => t.store.read.nodes.findById(node.id));
    });
    expect(await later).toEqual(node);
  });
});
