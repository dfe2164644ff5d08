import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyIndependently } from '#verify';
import { COORDINATOR_MAIN, LocalCluster, waitFor } from '#harness';
import { createTestDatabase } from './support/database.js';

type Request = {
  id: string;
  status: string;
  signature: string | null;
  attempts: { status: string; commitments: { hiding: string; binding: string }[] }[];
};
type AuditPage = { entries: { nodeId: string | null; details: Record<string, unknown> }[] };

/** The coordinator killed with SIGKILL while sessions are in flight, then restarted on the same data. */
describe('coordinator crash (SIGKILL) in the middle of signing', () => {
  let dir: string;
  let cluster: LocalCluster;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | null = null;

  beforeAll(async () => {
    if (!existsSync(COORDINATOR_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    dir = await mkdtemp(join(tmpdir(), 'roundtable-crash-'));
    cluster = new LocalCluster({
      workDir: join(dir, 'cluster'),
      nodes: 3,
      ...(process.env.DATABASE_URL ? { databaseUrl: (database = await createTestDatabase()).databaseUrl! } : {}),
      coordinatorEnv: { REQUEST_TTL_MS: '60000' },
    });
    await cluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([0, 25, 60, 120])('killed %i ms into a burst of requests: every request still completes once, with a valid signature', async (delayMs) => {
    const key = await cluster.dealKey('secp256k1', 2);
    const messages = Array.from({ length: 4 }, (_, i) => `crash at ${delayMs} ms, payment ${i}`);
    const ids: string[] = [];
    for (const message of messages) {
      ids.push((await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'crash test' })).id);
    }
    await new Promise((r) => setTimeout(r, delayMs));
    await cluster.crashAndRestartCoordinator();
    await waitFor(
      'the signer nodes to reconnect',
      async () => ((await cluster.api<{ connected: boolean }[]>('GET', '/v1/nodes')).filter((n) => n.connected).length === 3 ? true : undefined),
      30_000,
    );
    for (const [i, id] of ids.entries()) {
      let r = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=30000`);
      if (!['completed', 'failed', 'expired'].includes(r.status)) r = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=30000`);
      expect(r.status).toBe('completed');
      expect(await verifyIndependently('secp256k1', r.signature!, new TextEncoder().encode(messages[i]), key.groupPublicKey)).toBe(true);
      // Exactly one attempt completed; any attempt running at the crash ended as aborted.
      expect(r.attempts.filter((a) => a.status === 'completed')).toHaveLength(1);
      expect(r.attempts.every((a) => ['completed', 'aborted', 'failed', 'timed_out'].includes(a.status))).toBe(true);
    }
    if (delayMs === 0) {
      // Killed right after the requests were created: they were in flight and were proposed again after the restart.
      const proposals = await Promise.all(
        ids.map(async (id) => (await cluster.api<{ entries: unknown[] }>('GET', `/v1/audit?requestId=${id}&action=request.proposed`)).entries.length),
      );
      expect(Math.max(...proposals)).toBeGreaterThanOrEqual(2);
    }
    expect((await cluster.api<{ ok: boolean }>('GET', '/v1/audit/verify')).ok).toBe(true);
  });

  it('killed in the commitment round, then again while an attempt waits for a share: the request resumes, and no commitment serves twice', async () => {
    const key = await cluster.dealKey('secp256k1', 2);
    const [n1, n2, n3] = cluster.nodeIds as [string, string, string];
    const audit = (requestId: string, action: string, nodeId?: string) =>
      cluster.api<AuditPage>('GET', `/v1/audit?requestId=${requestId}&action=${action}${nodeId ? `&nodeId=${nodeId}` : ''}&limit=100`);
    const until = (what: string, probe: () => Promise<boolean>) => waitFor(what, async () => ((await probe()) ? true : undefined), 30_000, 50);

    // Round 1: only node 1 is up, so the request holds one commitment and waits for a second.
    await cluster.stopSigner(1);
    await cluster.stopSigner(2);
    await cluster.waitForConnected([n1]);
    const message = 'crash in every round';
    const { id } = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'crash test' });
    await until('node 1 to commit', async () => (await audit(id, 'commitment.received', n1)).entries.length >= 1);
    await cluster.crashAndRestartCoordinator();
    await cluster.waitForConnected([n1]);

    // Round 2: node 1 commits again (its old commitment was burned at boot) and is frozen (SIGSTOP) before
    // it can answer; node 2 joins, the attempt starts, node 2's share arrives; the coordinator dies again.
    await until('node 1 to commit again', async () => (await audit(id, 'commitment.received', n1)).entries.length >= 2);
    cluster.signers[0]!.process.kill('SIGSTOP');
    try {
      cluster.startSigner(1);
      await until('node 2 to send its share', async () => (await audit(id, 'share.received', n2)).entries.length >= 1);
      await cluster.crashAndRestartCoordinator();
    } finally {
      cluster.signers[0]!.process.kill('SIGCONT');
    }
    cluster.startSigner(2);
    await cluster.waitForConnected([n1, n2, n3]);

    let r = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=30000`);
    if (r.status !== 'completed') r = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=30000`);
    expect(r.status).toBe('completed');
    expect(await verifyIndependently('secp256k1', r.signature!, new TextEncoder().encode(message), key.groupPublicKey)).toBe(true);
    // The attempt the crash interrupted ended as aborted, and exactly one completed.
    expect(r.attempts[0]!.status).toBe('aborted');
    expect(r.attempts.filter((a) => a.status === 'completed')).toHaveLength(1);
    // No commitment appears in two attempts, and every commitment the coordinator accepted is distinct.
    const listed = r.attempts.flatMap((a) => a.commitments.flatMap((c) => [c.hiding, c.binding]));
    expect(new Set(listed).size).toBe(listed.length);
    const received = (await audit(id, 'commitment.received')).entries.map((e) => e.details.commitmentHash);
    expect(received.length).toBeGreaterThanOrEqual(4);
    expect(new Set(received).size).toBe(received.length);
    expect((await cluster.api<{ ok: boolean }>('GET', '/v1/audit/verify')).ok).toBe(true);
  });
});
