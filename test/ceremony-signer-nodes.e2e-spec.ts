import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, sha256Hex, SUITE_IDS, utf8, type SuiteId } from '#crypto';
import { verifyIndependently } from '#verify';
import { initKeystore, KDF_COSTS, type SignerNode } from '#signer';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { ScriptedParticipant } from './support/scripted-ceremony.js';
import { realSignerNode } from './support/signer-node.js';

describe('a key ceremony between real signer nodes and the real coordinator', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-dkg-e2e-${process.pid}-${Date.now()}`);
  const keystores = [1, 2, 3, 4, 5].map((i) => join(root, `node-${i}`));
  const passphrases = [1, 2, 3, 4, 5].map((i) => `dkg e2e passphrase of node ${i}`);
  const nodeIds: string[] = [];
  const nodes: SignerNode[] = [];

  beforeAll(async () => {
    coord = await startTestCoordinator();
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: passphrases[i]!, kdfCost: KDF_COSTS.test });
      nodeIds.push((await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).body.id);
    }
    for (const [i, dir] of keystores.entries()) {
      const node = realSignerNode(coord, dir, passphrases[i]!);
      await node.start();
      nodes.push(node);
    }
    for (let i = 0; i < 100; i++) {
      const listed = (await coord.api<{ connected: boolean }[]>('GET', '/v1/nodes')).body;
      if (listed.filter((n) => n.connected).length === 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  const cases = SUITE_IDS.flatMap((suite): [SuiteId, number, number][] => [
    [suite, 2, 3],
    [suite, 3, 5],
  ]);

  it.each(cases)('%s %i-of-%i: the ceremony registers a key the nodes then sign with', async (suite, threshold, n) => {
    const started = await coord.api<{ id: string; keyId: string }>('POST', '/v1/ceremonies', { suite, threshold, nodeIds: nodeIds.slice(0, n) });
    expect(started.status).toBe(201);
    let ceremony = { status: 'round1', failureReason: null as string | null };
    for (let i = 0; i < 400 && !['completed', 'failed'].includes(ceremony.status); i++) {
      await new Promise((r) => setTimeout(r, 25));
      ceremony = (await coord.api<typeof ceremony>('GET', `/v1/ceremonies/${started.body.id}`)).body;
    }
    expect(ceremony.status, ceremony.failureReason ?? '').toBe('completed');
    const key = (await coord.api<{ groupPublicKey: string; origin: string; threshold: number; members: unknown[] }>('GET', `/v1/keys/${started.body.keyId}`)).body;
    expect(key).toMatchObject({ origin: `ceremony:${started.body.id}`, threshold });
    expect(key.members).toHaveLength(n);
    if (suite === 'secp256k1-tr') expect(key.groupPublicKey).toMatch(/^[0-9a-f]{64}$/);

    // BIP340 as libsecp256k1 implements it signs 32-byte messages: sign a digest there.
    const text = `signed with a ${threshold}-of-${n} ${suite} DKG key`;
    const message = suite === 'secp256k1-tr' ? sha256Hex(text) : text;
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', {
      keyId: started.body.keyId,
      message,
      encoding: suite === 'secp256k1-tr' ? 'hex' : 'utf8',
    });
    expect(created.status).toBe(201);
    const result = (await coord.api<{ status: string; signature: string | null }>('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`)).body;
    expect(result.status).toBe('completed');
    const bytes = suite === 'secp256k1-tr' ? Buffer.from(message, 'hex') : utf8(message);
    expect(await verifyIndependently(suite, result.signature!, bytes, key.groupPublicKey)).toBe(true);
  });

  it('a participant that sends tampered round-2 ciphertext fails the ceremony, named by the honest nodes', async () => {
    const identity = generateIdentity();
    const enrolled = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: identity.publicKey, label: 'tamperer' });
    const raw = await RawNode.connect(coord.wsUrl, identity);
    await raw.next('auth.ok');
    const mallory = new ScriptedParticipant(raw, identity, enrolled.body.id);
    try {
      const started = await coord.api<{ id: string; keyId: string }>('POST', '/v1/ceremonies', {
        suite: 'secp256k1',
        threshold: 2,
        nodeIds: [nodeIds[0], nodeIds[1], enrolled.body.id],
      });
      expect(started.status).toBe(201);
      await mallory.receiveStart(started.body.id);
      mallory.makeRound1();
      mallory.sendRound1();
      await mallory.round2({ tamper: true });
      const closed = await mallory.closed();
      expect(closed.status).toBe('failed');
      const ceremony = (await coord.api<{ status: string; failureCode: string; failureReason: string; culprits: string[] }>('GET', `/v1/ceremonies/${started.body.id}`)).body;
      expect(ceremony.status).toBe('failed');
      expect(`${ceremony.failureCode} ${ceremony.failureReason}`).toMatch(/UNDECRYPTABLE_SHARE/);
      expect(ceremony.culprits).toEqual([enrolled.body.id]);
      // No key was registered, and the honest nodes keep no usable share of it.
      expect((await coord.api('GET', `/v1/keys/${started.body.keyId}`)).status).toBe(404);
    } finally {
      raw.close();
    }
  });
});
