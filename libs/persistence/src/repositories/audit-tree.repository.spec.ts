import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, verifyConsistency } from '#audit';
import { hexToBytes } from '#crypto';
import { TransparencyLogService, type AuditLogKey } from '#domain';
import { anAuditInput, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

describe('audit repository: the transparency log', () => {
  const t = useMigratedStore();

  it('reads the leaf data (chain hashes) in seq order and the head', async () => {
    expect(await t.store.read.audit.headSeq()).toBe(0);
    const entries = await t.store.transaction((tx) => tx.audit.appendAll([anAuditInput(), anAuditInput(), anAuditInput()]));
    expect(await t.store.read.audit.headSeq()).toBe(3);
    expect(await t.store.read.audit.hashesAfter(1, 10)).toEqual(entries.slice(1).map((e) => ({ seq: e.seq, hash: e.hash })));
    expect(await t.store.read.audit.hashesAfter(0, 1)).toHaveLength(1);
  });

  it('keeps one checkpoint per (origin, size) and returns the latest', async () => {
    const cp = (treeSize: number, note = `n${treeSize}`) => ({
      origin: 'o',
      treeSize,
      rootHash: 'ab'.repeat(32),
      keyName: 'k',
      note,
      createdAt: at('2026-05-01T12:00:00.000Z'),
    });
    expect(await t.store.read.audit.latestCheckpoint('o')).toBeNull();
    expect(await t.store.read.audit.saveCheckpoint(cp(2))).toBe(true);
    expect(await t.store.read.audit.saveCheckpoint(cp(2, 'another'))).toBe(false);
    expect(await t.store.read.audit.saveCheckpoint(cp(10))).toBe(true);
    expect(await t.store.read.audit.saveCheckpoint({ ...cp(11), origin: 'other' })).toBe(true);
    expect(await t.store.read.audit.latestCheckpoint('o')).toEqual(cp(10));
    await expect(t.dataSource.query(`UPDATE audit_checkpoints SET note = 'forged' WHERE tree_size = 10`)).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query(`DELETE FROM audit_checkpoints`)).rejects.toThrow(/append-only/);
    const [two] = await Promise.all([t.store.read.audit.saveCheckpoint(cp(12)), t.store.read.audit.saveCheckpoint(cp(12, 'x'))]);
    expect(typeof two).toBe('boolean');
    expect((await t.store.read.audit.latestCheckpoint('o'))?.treeSize).toBe(12);
  });

  it('two coordinator instances over one database issue the same checkpoints, never two for one size', async () => {
    const secretKey = ed25519.utils.randomSecretKey();
    const key: AuditLogKey = { origin: 'two/instances', keyName: 'two/instances', secretKey, publicKey: ed25519.getPublicKey(secretKey), checkpointIntervalMs: 0 };
    const a = new TransparencyLogService(t.store, key);
    const b = new TransparencyLogService(t.store, key);
    const seen = new Map<number, string>();
    for (let round = 0; round < 5; round++) {
      await Promise.all([
        t.store.transaction((tx) => tx.audit.appendAll([anAuditInput(), anAuditInput()])),
        t.store.transaction((tx) => tx.audit.append(anAuditInput())),
      ]);
      const cps = await Promise.all([a.checkpoint(), b.checkpoint(), a.checkpoint(), b.checkpoint()]);
      for (const cp of cps) {
        const opened = openCheckpoint(cp.note, key.publicKey);
        expect(opened.size).toBe(cp.treeSize);
        if (seen.has(cp.treeSize)) expect(seen.get(cp.treeSize)).toBe(cp.note);
        seen.set(cp.treeSize, cp.note);
      }
    }
    const sizes = [...seen.keys()].sort((x, y) => x - y);
    const last = sizes.at(-1)!;
    expect(last).toBe(await t.store.read.audit.headSeq());
    const stored: { n: string }[] = await t.dataSource.query(`SELECT count(*)::text AS n FROM audit_checkpoints WHERE origin = 'two/instances'`);
    expect(Number(stored[0]!.n)).toBe(sizes.length);
    for (const size of sizes) {
      const from = openCheckpoint(seen.get(size)!, key.publicKey);
      const to = openCheckpoint(seen.get(last)!, key.publicKey);
      const proof = await b.consistency(size, last);
      expect(verifyConsistency(size, last, from.root, to.root, proof.hashes.map(hexToBytes))).toBeNull();
    }
  });
});
