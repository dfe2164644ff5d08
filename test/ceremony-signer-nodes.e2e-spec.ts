import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8, verifyIndependently } from '#crypto';
import { initKeystore, KDF_COSTS, SignerNode, silentLogger } from '#signer';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';

describe('a key ceremony between real signer nodes and the real coordinator', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-dkg-e2e-${process.pid}-${Date.now()}`);
  const keystores = [1, 2, 3].map((i) => join(root, `node-${i}`));
  const passphrases = [1, 2, 3].map((i) => `dkg e2e passphrase of node ${i}`);
  const nodeIds: string[] = [];
  const nodes: SignerNode[] = [];

  beforeAll(async () => {
    coord = await startTestCoordinator({ attemptTimeoutMs: 3_000 });
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: passphrases[i]!, kdfCost: KDF_COSTS.test });
      nodeIds.push((await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).body.id);
    }
    for (const [i, dir] of keystores.entries()) {
      const node = new SignerNode({
        keystoreDir: dir,
        passphrase: passphrases[i]!,
        coordinatorUrl: coord.wsUrl,
        coordinatorId: coord.config.coordinatorId,
        policy: { kind: 'approve-all' },
        logger: silentLogger,
        reconnect: { initialMs: 50, maxMs: 500 },
      });
      await node.start();
      nodes.push(node);
    }
    for (let i = 0; i < 100; i++) {
      const listed = (await coord.api<{ connected: boolean }[]>('GET', '/v1/nodes')).body;
      if (listed.filter((n) => n.connected).length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('2-of-3 ed25519: the ceremony registers a key the nodes then sign with', async () => {
    const started = await coord.api<{ id: string; keyId: string }>('POST', '/v1/ceremonies', { suite: 'ed25519', threshold: 2, nodeIds });
    expect(started.status).toBe(201);
    let ceremony = { status: 'round1', failureReason: null as string | null };
    for (let i = 0; i < 200 && !['completed', 'failed'].includes(ceremony.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      ceremony = (await coord.api<typeof ceremony>('GET', `/v1/ceremonies/${started.body.id}`)).body;
    }
    expect(ceremony.status, ceremony.failureReason ?? '').toBe('completed');
    const key = (await coord.api<{ groupPublicKey: string; origin: string }>('GET', `/v1/keys/${started.body.keyId}`)).body;
    expect(key.origin).toBe(`ceremony:${started.body.id}`);

    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: started.body.keyId, message: 'signed with a DKG key' });
    expect(created.status).toBe(201);
    const result = (await coord.api<{ status: string; signature: string | null }>('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`)).body;
    expect(result.status).toBe('completed');
    expect(verifyIndependently('ed25519', result.signature!, utf8('signed with a DKG key'), key.groupPublicKey)).toBe(true);
  });
});
