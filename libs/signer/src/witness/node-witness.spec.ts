import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { consistencyProof, cosignerName, leafHash, signCheckpoint, splitNote, treeHash, verifyCosignatureLine } from '#audit';
import { bytesToHex, hexToBytes } from '#crypto';
import type { AuditCheckpointFrame, NodeFrame, Outgoing } from '#protocol';
import { silentLogger } from '../logger.js';
import { initTestKeystore, openTestKeystore, tempDir } from '../testing/key-fixtures.js';
import { NodeWitness, witnessRecordId, type WitnessEvents } from './node-witness.js';

const ORIGIN = 'roundtable/witness-test/audit';
const logSecret = ed25519.utils.randomSecretKey();
const logPublicKey = bytesToHex(ed25519.getPublicKey(logSecret));
const leaves = Array.from({ length: 30 }, (_, i) => leafHash(new TextEncoder().encode(`e${i}`)));
const rewritten = leaves.map((l, i) => (i === 1 ? leafHash(new TextEncoder().encode('other')) : l));

function checkpointFrame(size: number, oldSize: number, ls = leaves): Omit<AuditCheckpointFrame, 'v'> {
  return {
    type: 'audit.checkpoint',
    origin: ORIGIN,
    treeSize: size,
    note: signCheckpoint({ origin: ORIGIN, size, root: treeHash(ls, size) }, { name: ORIGIN, secretKey: logSecret }),
    logPublicKey,
    oldSize,
    consistency: consistencyProof(ls, oldSize, size).map(bytesToHex),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function witnessIn(dir: string) {
  const keystore = await openTestKeystore(dir);
  const events: { event: keyof WitnessEvents; args: unknown }[] = [];
  const witness = new NodeWitness({
    records: keystore.witnessRecords,
    identity: keystore,
    logger: silentLogger,
    now: () => 1_800_000_000_000,
    emit: (event, ...args) => events.push({ event, args: args[0] }),
  });
  const replies: Outgoing<NodeFrame>[] = [];
  const show = async (frame: Omit<AuditCheckpointFrame, 'v'>) => {
    await witness.handle({ v: 1, ...frame }, (f) => replies.push(f));
    return replies.at(-1)!;
  };
  return { keystore, witness, show, events };
}

async function freshNode() {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  await initTestKeystore(dir.path);
  return { dir: dir.path, ...(await witnessIn(dir.path)) };
}

describe('a signer node as a witness of the audit log', () => {
  it('cosigns a first checkpoint and each consistent one after it, with its identity key (C2SP tlog-cosignature)', async () => {
    const { keystore, show, events } = await freshNode();
    for (const [size, oldSize] of [[4, 0], [9, 4], [9, 9], [30, 9]] as const) {
      const frame = checkpointFrame(size, oldSize);
      const reply = await show(frame);
      expect(reply, `size ${size}`).toMatchObject({ type: 'audit.cosignature', origin: ORIGIN, treeSize: size });
      const line = (reply as { line: string }).line;
      const verdict = verifyCosignatureLine(line, splitNote(frame.note).body, cosignerName(keystore.publicKey), hexToBytes(keystore.publicKey));
      expect(verdict).toEqual({ ok: true, timestamp: 1_800_000_000 });
    }
    expect(events.filter((e) => e.event === 'checkpoint-cosigned')).toHaveLength(4);
  });

  it('refuses and reports a rewritten log, and keeps refusing it after a restart', async () => {
    const node = await freshNode();
    expect(await node.show(checkpointFrame(10, 0))).toMatchObject({ type: 'audit.cosignature' });
    const forged = await node.show(checkpointFrame(20, 10, rewritten));
    expect(forged).toMatchObject({ type: 'audit.refused', code: 'CHECKPOINT_INCONSISTENT', treeSize: 20, witnessSize: 10 });
    expect(node.events.at(-1)).toMatchObject({ event: 'checkpoint-refused', args: { code: 'CHECKPOINT_INCONSISTENT' } });
    // A coordinator that starts the rewritten log's story from scratch gets no further with a new process.
    const again = await witnessIn(node.dir);
    expect(await again.show(checkpointFrame(20, 0, rewritten))).toMatchObject({ type: 'audit.refused', code: 'CHECKPOINT_OLD_SIZE', witnessSize: 10 });
    expect(await again.show(checkpointFrame(20, 10, rewritten))).toMatchObject({ type: 'audit.refused', code: 'CHECKPOINT_INCONSISTENT' });
    expect(await again.show(checkpointFrame(5, 0))).toMatchObject({ type: 'audit.refused', code: 'CHECKPOINT_INCONSISTENT' });
    // The honest log goes on being cosigned from where the node left it.
    expect(await again.show(checkpointFrame(20, 10))).toMatchObject({ type: 'audit.cosignature', treeSize: 20 });
  });

  it('asks for a proof from its own size, refuses another log key for the origin and a frame that misnames its note', async () => {
    const node = await freshNode();
    expect(await node.show(checkpointFrame(8, 3))).toMatchObject({ type: 'audit.refused', code: 'CHECKPOINT_OLD_SIZE', witnessSize: 0 });
    expect(await node.show(checkpointFrame(8, 0))).toMatchObject({ type: 'audit.cosignature' });
    const otherSecret = ed25519.utils.randomSecretKey();
    const swapped = {
      ...checkpointFrame(12, 8),
      note: signCheckpoint({ origin: ORIGIN, size: 12, root: treeHash(leaves, 12) }, { name: ORIGIN, secretKey: otherSecret }),
      logPublicKey: bytesToHex(ed25519.getPublicKey(otherSecret)),
    };
    expect(await node.show(swapped)).toMatchObject({ type: 'audit.refused', code: 'LOG_KEY_CHANGED' });
    expect(await node.show({ ...checkpointFrame(12, 8), treeSize: 13 })).toMatchObject({ type: 'audit.refused', code: 'CHECKPOINT_INVALID' });
    expect(await node.show(checkpointFrame(12, 8))).toMatchObject({ type: 'audit.cosignature', treeSize: 12 });
  });

  it('fails closed on a witness record it cannot authenticate', async () => {
    const node = await freshNode();
    expect(await node.show(checkpointFrame(6, 0))).toMatchObject({ type: 'audit.cosignature' });
    const files = await readdir(join(node.dir, 'witness'));
    expect(files).toEqual([`${witnessRecordId(ORIGIN)}.json`]);
    await writeFile(join(node.dir, 'witness', files[0]!), '{"not":"sealed"}', { mode: 0o600 });
    const again = await witnessIn(node.dir);
    expect(await again.show(checkpointFrame(7, 6))).toMatchObject({ type: 'audit.refused', code: 'WITNESS_STATE_UNREADABLE' });
    expect(await again.show(checkpointFrame(7, 0))).toMatchObject({ type: 'audit.refused', code: 'WITNESS_STATE_UNREADABLE' });
  });
});
