import { randomUUID } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { STORE_LOCK_NAME } from '#store-lock';
import { holdStoreLockInChild } from '../../store-lock/src/testing/store-lock-holder.js';
import { SignerError } from './signer-error.js';
import { SignerNode, type SignerNodeOptions } from './signer-node.js';
import { FakeCoordinator } from './testing/fake-coordinator.js';
import { proposeFrame, testIntent } from './testing/intent-fixtures.js';
import { testNodeOptions } from './testing/test-node.js';
import { dealTestKey, readTestJournal, tempDir, type DealtTestKey } from './testing/key-fixtures.js';

/** One process per keystore: the node holds the keystore's lock from start to stop. */
describe('SignerNode keystore lock', () => {
  let root: { path: string; cleanup: () => Promise<void> };
  let key: DealtTestKey;
  let keystore: string;
  let fake: FakeCoordinator;
  let nodes: SignerNode[];

  beforeEach(async () => {
    root = await tempDir();
    key = await dealTestKey(root.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 1 });
    keystore = key.keystores[0]!;
    fake = await FakeCoordinator.start();
    nodes = [];
  });
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await fake.close();
    await root.cleanup();
  });

  const makeNode = (overrides: Partial<SignerNodeOptions> = {}) => {
    const node = new SignerNode(testNodeOptions(keystore, fake.url, overrides));
    nodes.push(node);
    return node;
  };
  const startNode = async (overrides: Partial<SignerNodeOptions> = {}) => {
    const node = makeNode(overrides);
    const connecting = fake.nextConnection();
    await node.start();
    const conn = await connecting;
    await conn.authenticated();
    return { node, conn };
  };
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e as SignerError,
    );
  const lockDir = () => join(keystore, STORE_LOCK_NAME);

  it('refuses to start on a keystore another process holds, naming its pid, and touches nothing', async () => {
    const holder = await holdStoreLockInChild(keystore);
    try {
      const error = await rejection(makeNode().start());
      expect(error).toBeInstanceOf(SignerError);
      expect(error.code).toBe('KEYSTORE_IN_USE');
      expect(error.message).toBe(`keystore ${keystore} is in use by another process (pid ${holder.pid}); stop it first`);
      await expect(stat(join(keystore, 'nonces.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await holder.stop();
    }
  });

  it('holds the lock while it runs and gives it back on stop, and after a failed start', async () => {
    const { node } = await startNode();
    expect((await stat(lockDir())).isDirectory()).toBe(true);
    expect(await rejection(makeNode().start())).toMatchObject({ code: 'KEYSTORE_IN_USE' });
    await node.stop();
    await expect(stat(lockDir())).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await rejection(makeNode({ passphrase: 'wrong' }).start())).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(stat(lockDir())).rejects.toMatchObject({ code: 'ENOENT' });
    await startNode();
  });

  it('stops loudly when its lock is lost, and writes not one more journal record', async () => {
    const { node, conn } = await startNode();
    const fatal = vi.fn<(e: SignerError) => void>();
    node.on('fatal', fatal);
    const requestId = randomUUID();
    const { v: _v, ...frame } = proposeFrame(testIntent(key.keyId, Date.now()), { suite: 'secp256k1', threshold: 2, requestId });
    conn.send(frame);
    await conn.next('request.commit');
    const journalText = await readFile(join(keystore, 'nonces.jsonl'), 'utf8');
    // Another process takes the keystore over (here: the lock is simply gone).
    await rm(lockDir(), { recursive: true });
    await vi.waitFor(() => expect(fatal).toHaveBeenCalledTimes(1), { timeout: 8_000, interval: 100 });
    expect(fatal.mock.calls[0]![0]).toMatchObject({
      code: 'KEYSTORE_LOCK_LOST',
      message: expect.stringMatching(/lost the lock on keystore .*another process may be using it/) as unknown,
    });
    await node.stop();
    // The live nonce is not journaled discarded at shutdown: the journal may have another writer now.
    expect(await readFile(join(keystore, 'nonces.jsonl'), 'utf8')).toBe(journalText);
    expect((await readTestJournal(keystore)).map((r) => r.event)).toEqual(['issued']);
  }, 15_000);
});
