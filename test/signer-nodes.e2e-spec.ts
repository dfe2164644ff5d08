import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SUITE_IDS, type SuiteId } from '#crypto';
import { verifyIndependently } from '#verify';
import type { NonceCommitment } from '#protocol';
import { initKeystore, KDF_COSTS, Keystore, nonceIdOf, runDealer, type NodePolicy, type SignerNode } from '#signer';
import { decryptTestJournal } from '../libs/signer/src/testing/key-fixtures.js';
import { allowAllPolicy, testPolicy } from '../libs/signer/src/testing/test-policy.js';
import { scanForSecrets } from './support/secret-scan.js';
import { startTestCoordinator, ADMIN_TOKEN, type TestCoordinator } from './support/coordinator.js';
import { realSignerNode } from './support/signer-node.js';

type Request = {
  id: string;
  status: string;
  signature: string | null;
  groupPublicKey: string | null;
  culprits: { nodeId: string; reason: string }[];
  attempts: { id: string; participants: string[]; status: string }[];
  failure: { code: string; reason: string } | null;
};

describe('real signer nodes against the real coordinator (ws, database)', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-e2e-${process.pid}-${Date.now()}`);
  const keystores = [1, 2, 3].map((i) => join(root, `node-${i}`));
  const nodeIds: string[] = [];
  /** Each node's own keystore passphrase. */
  const passphrases = [1, 2, 3].map((i) => `e2e passphrase of node ${i}`);
  const running = new Set<SignerNode>();

  const startNode = async (i: number, policy: NodePolicy = allowAllPolicy()) => {
    const node = realSignerNode(coord, keystores[i]!, passphrases[i]!, { policy });
    await node.start();
    running.add(node);
    return node;
  };
  const stopNode = async (node: SignerNode) => {
    await node.stop();
    running.delete(node);
  };
  const waitConnected = async (count: number) => {
    for (let i = 0; i < 100; i++) {
      const nodes = (await coord.api<{ id: string; connected: boolean }[]>('GET', '/v1/nodes')).body;
      if (nodes.filter((n) => n.connected).length === count) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`expected ${count} connected nodes`);
  };
  const deal = async (suite: SuiteId) => {
    const dealt = await runDealer({ coordinatorUrl: coord.httpUrl, adminToken: ADMIN_TOKEN, suite, threshold: 2, keystores });
    const key = await coord.api<{ id: string; groupPublicKey: string }>('GET', `/v1/keys/${dealt.keyId}`);
    return key.body;
  };
  const sign = async (keyId: string, message: string, description = 'e2e', encoding: 'utf8' | 'hex' = 'utf8') => {
    const created = await coord.api<Request>('POST', '/v1/signing-requests', { keyId, message, encoding, description });
    expect(created.status).toBe(201);
    return created.body.id;
  };
  const outcome = async (id: string) => (await coord.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=20000`)).body;

  beforeAll(async () => {
    // A stagger longer than any healthy attempt here: one attempt per request unless one stalls.
    coord = await startTestCoordinator({ attemptStaggerMs: 2_000 });
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: passphrases[i]!, kdfCost: KDF_COSTS.test });
      const res = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` });
      nodeIds.push(res.body.id);
    }
  });

  afterEach(async () => {
    await Promise.all([...running].map((n) => stopNode(n)));
  });

  afterAll(async () => {
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it.each(SUITE_IDS)('2-of-3 %s: a signature an independent verifier accepts', async (suite) => {
    await Promise.all([0, 1, 2].map((i) => startNode(i)));
    const key = await deal(suite);
    const text = `pay invoice 42 (${suite})`;
    // BIP340 as libsecp256k1 implements it signs 32-byte messages: give secp256k1-tr a digest, as hex.
    const bytes = suite === 'secp256k1-tr' ? new Uint8Array(createHash('sha256').update(text).digest()) : new TextEncoder().encode(text);
    const result =
      suite === 'secp256k1-tr'
        ? await outcome(await sign(key.id, Buffer.from(bytes).toString('hex'), 'e2e', 'hex'))
        : await outcome(await sign(key.id, text));
    expect(result.status).toBe('completed');
    expect(result.groupPublicKey).toBe(key.groupPublicKey);
    if (suite === 'secp256k1-tr') expect(key.groupPublicKey).toMatch(/^[0-9a-f]{64}$/); // x-only
    expect(await verifyIndependently(suite, result.signature!, bytes, key.groupPublicKey)).toBe(true);
    const tampered = Uint8Array.from(bytes);
    tampered[0] = tampered[0]! ^ 1;
    expect(await verifyIndependently(suite, result.signature!, tampered, key.groupPublicKey)).toBe(false);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]!.participants).toHaveLength(2);
  });

  it('completes with one node offline', async () => {
    await Promise.all([0, 2].map((i) => startNode(i)));
    const key = await deal('secp256k1');
    const result = await outcome(await sign(key.id, 'one node offline'));
    expect(result.status).toBe('completed');
    expect([...result.attempts[0]!.participants].sort()).toEqual([nodeIds[0], nodeIds[2]].sort());
  });

  it('honours each node’s own policy: declines are recorded and the request fails when too few approve', async () => {
    await startNode(0);
    const payrollOnly = () => testPolicy((subject) => (/^payroll/.test(subject.intent.description) ? 'allow' : 'deny'), 'payroll-only');
    await startNode(1, payrollOnly());
    await startNode(2, payrollOnly());
    const key = await deal('ed25519');
    const denied = await outcome(await sign(key.id, 'x', 'vendor payment'));
    // Two of three declined, more than n - t = 1: rejected at once, naming both.
    expect(denied.status).toBe('failed');
    expect(denied.failure?.code).toBe('REJECTED');
    expect(denied.culprits.filter((c) => c.reason === 'declined').map((c) => c.nodeId).sort()).toEqual([nodeIds[1], nodeIds[2]].sort());
    const approved = await outcome(await sign(key.id, 'x', 'payroll November'));
    expect(approved.status).toBe('completed');
  });

  it('a signer restarted between commit and sign never reuses its nonce, and the request still completes', async () => {
    const key = await deal('secp256k1');
    const a = await startNode(0);
    const committed = new Promise<NonceCommitment>((resolve) => a.once('committed', (e) => resolve(e.commitment)));
    const requestId = await sign(key.id, 'restart between rounds');
    const first = await committed;
    // Only one of two signers is online, so the request waits; the node now restarts from its keystore.
    await stopNode(a);
    const a2 = await startNode(0);
    const second = await new Promise<NonceCommitment>((resolve) => a2.once('committed', (e) => resolve(e.commitment)));
    expect(second.hiding).not.toBe(first.hiding);
    await startNode(1);
    const result = await outcome(requestId);
    expect(result.status).toBe('completed');
    expect(result.attempts).toHaveLength(1);
    // On disk: the pre-restart nonce was discarded and never consumed.
    const journal = (await decryptTestJournal(keystores[0]!, await readFile(join(keystores[0]!, 'nonces.jsonl'), 'utf8'), passphrases[0])) as {
      event: string;
      id: string;
      reason?: string;
    }[];
    const firstId = nonceIdOf(first);
    // A graceful stop discards it as 'shutdown'; after a crash the next start discards it as 'restart'.
    const history = journal.filter((r) => r.id === firstId);
    expect(history.map((r) => r.event)).toEqual(['issued', 'discarded']);
    expect(['shutdown', 'restart']).toContain(history[1]!.reason);
    // On the coordinator: two commitments from node-1 before signing, and exactly one share from it.
    const shares = (await coord.api<{ entries: { nodeId: string }[] }>('GET', `/v1/audit?requestId=${requestId}&action=share.received`)).body.entries;
    expect(shares.filter((e) => e.nodeId === nodeIds[0])).toHaveLength(result.attempts[0]!.participants.includes(nodeIds[0]!) ? 1 : 0);
  });

  it('the coordinator never stores a secret share: no row of any table contains one', async () => {
    await Promise.all([0, 1, 2].map((i) => startNode(i)));
    const key = await deal('secp256k1');
    expect((await outcome(await sign(key.id, 'scan for secrets'))).status).toBe('completed');
    // Stopped first: one process at a time imports a keystore's inbox.
    await Promise.all([...running].map((n) => stopNode(n)));
    const secrets: string[] = [];
    for (const [i, dir] of keystores.entries()) {
      const keystore = await Keystore.open(dir, { passphrase: passphrases[i]! });
      secrets.push((await keystore.readShare(key.id)).signingShare);
      for (const share of await keystore.listShares()) secrets.push(share.signingShare);
    }
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    const { rows, tablesWithSecrets } = await scanForSecrets(coord.app, secrets);
    expect(tablesWithSecrets).toEqual([]);
    expect(rows).toBeGreaterThan(20);
  });

  it('after a coordinator restart, open requests resume and complete; the audit chain still verifies', async () => {
    const key = await deal('ed25519');
    await startNode(0);
    const requestId = await sign(key.id, 'survives a coordinator restart');
    await new Promise((r) => setTimeout(r, 200));
    coord = await coord.restart();
    await startNode(1);
    // node-1's client reconnects by itself after the restart (backoff).
    await waitConnected(2);
    const result = await outcome(requestId);
    expect(result.status).toBe('completed');
    const verdict = (await coord.api<{ ok: boolean }>('GET', '/v1/audit/verify')).body;
    expect(verdict.ok).toBe(true);
  });
});
