import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle, type AuditBundle } from '#audit';
import { hexToBytes } from '#crypto';
import { COORDINATOR_MAIN, LocalCluster, waitFor } from '#harness';
import { verifyIndependently } from '#verify';
import { createTestDatabase } from './support/database.js';

type Request = {
  id: string;
  status: string;
  signature: string | null;
  failure: { code: string; reason: string } | null;
  attempts: { status: string; participants: string[]; commitments: { hiding: string; binding: string }[] }[];
};

const TERMINAL = ['completed', 'failed', 'expired', 'cancelled'];

/**
 * Three coordinator processes on one PostgreSQL (issue 13 §4): nodes spread over them (each is given all
 * three URLs, starting with its own), requests are made on any instance, and frames for a node reach it
 * through whichever instance holds its connection. One instance is killed with SIGKILL in the middle of
 * sessions; its nodes fail over to the others and every request ends.
 */
describe.skipIf(!process.env.DATABASE_URL)('three coordinator instances on one PostgreSQL', () => {
  let dir: string;
  let cluster: LocalCluster;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: pg.Client;

  beforeAll(async () => {
    if (!existsSync(COORDINATOR_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    dir = await mkdtemp(join(tmpdir(), 'roundtable-instances-'));
    database = await createTestDatabase();
    cluster = new LocalCluster({
      workDir: join(dir, 'cluster'),
      nodes: 5,
      instances: 3,
      databaseUrl: database.databaseUrl!,
      coordinatorEnv: { REQUEST_TTL_MS: '60000', INSTANCE_HEARTBEAT_MS: '300', INSTANCE_TTL_MS: '3000', SCHEDULER_INTERVAL_MS: '200', AUDIT_WITNESS_INTERVAL_MS: '0' },
    });
    await cluster.start();
    db = new pg.Client({ connectionString: database.databaseUrl! });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await cluster?.stop();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const presence = async () =>
    (await db.query<{ node_id: string; instance_id: string }>('SELECT node_id, instance_id FROM node_presence')).rows;

  const outcome = async (id: string): Promise<Request> => {
    for (;;) {
      const r = await cluster.api<Request>('GET', `/v1/signing-requests/${id}?waitMs=20000`, undefined, 'any');
      if (TERMINAL.includes(r.status)) return r;
    }
  };

  it('spreads the nodes over the instances, and signs requests made on any of them', async () => {
    const holder = new Map((await presence()).map((p) => [p.node_id, p.instance_id]));
    expect(new Set(holder.values()).size).toBe(3);
    expect((await db.query('SELECT id FROM coordinator_instances')).rowCount).toBe(3);
    const key = await cluster.dealKey('secp256k1', 3);
    const messages = Array.from({ length: 6 }, (_, i) => `instances: payment ${i}`);
    const ids: string[] = [];
    for (const [i, message] of messages.entries()) {
      ids.push((await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'several instances' }, i % 3)).id);
    }
    for (const [i, id] of ids.entries()) {
      // Read back from another instance than the one it was made on.
      const r = await outcome(id);
      expect(r.status).toBe('completed');
      expect(await verifyIndependently('secp256k1', r.signature!, new TextEncoder().encode(messages[i]), key.groupPublicKey)).toBe(true);
      // Its signers were held by at least two instances (at most two of the five nodes are on one).
      const signed = r.attempts.find((a) => a.status === 'completed')!;
      expect(new Set(signed.participants.map((n) => holder.get(n))).size).toBeGreaterThanOrEqual(2);
    }
    // So every request had frames relayed through the database (at least one proposal each), and none is left behind.
    const relayedIds = (await db.query<{ last_value: string; is_called: boolean }>('SELECT last_value, is_called FROM relayed_frames_id_seq')).rows[0]!;
    expect(relayedIds.is_called).toBe(true);
    expect(Number(relayedIds.last_value)).toBeGreaterThanOrEqual(ids.length);
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM relayed_frames")).rows[0]!.n).toBe(0);
  }, 120_000);

  it('runs a key ceremony among nodes held by three instances, and signs with its key', async () => {
    // The ceremony is started on instance 0; its frames reach the others' nodes through the database,
    // and their answers are handled on whichever instance holds each node, under one lock per ceremony.
    const key = await cluster.runCeremony('secp256k1', 3);
    const message = 'signed with a key made across instances';
    const { id } = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'ceremony key' }, 2);
    const r = await outcome(id);
    expect(r.status).toBe('completed');
    expect(await verifyIndependently('secp256k1', r.signature!, new TextEncoder().encode(message), key.groupPublicKey)).toBe(true);
  }, 120_000);

  it('an instance killed with SIGKILL mid-session: its nodes fail over, every request ends, no commitment serves twice, the audit log verifies', async () => {
    const key = await cluster.dealKey('secp256k1', 3);
    const victim = 1;
    const victimId = (await db.query<{ id: string }>('SELECT id FROM coordinator_instances ORDER BY started_at')).rows[victim]!.id;
    const onVictim = (await presence()).filter((p) => p.instance_id === victimId).map((p) => p.node_id);
    expect(onVictim.length).toBeGreaterThan(0);

    const messages = Array.from({ length: 12 }, (_, i) => `failover: payment ${i}`);
    const ids: string[] = [];
    for (const [i, message] of messages.entries()) {
      ids.push((await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'failover' }, i % 3)).id);
    }
    await new Promise((r) => setTimeout(r, 40));
    await cluster.crashCoordinator(victim);

    // Its nodes come back on the other two instances; the dead instance's row goes (its liveness lock is free).
    await waitFor(
      "the killed instance's nodes to reconnect elsewhere",
      async () => {
        const rows = await presence();
        return rows.length === 5 && rows.every((p) => p.instance_id !== victimId) ? true : undefined;
      },
      30_000,
      100,
    );
    await waitFor('the dead instance to be deleted', async () => ((await db.query('SELECT 1 FROM coordinator_instances WHERE id = $1', [victimId])).rowCount === 0 ? true : undefined), 30_000, 100);

    const elements: string[] = [];
    for (const [i, id] of ids.entries()) {
      const r = await outcome(id);
      // Every request ends: completed with a valid signature, or failed with its reason.
      expect(['completed', 'failed']).toContain(r.status);
      if (r.status === 'completed') {
        expect(await verifyIndependently('secp256k1', r.signature!, new TextEncoder().encode(messages[i]), key.groupPublicKey)).toBe(true);
        expect(r.attempts.filter((a) => a.status === 'completed')).toHaveLength(1);
      } else {
        expect(r.failure?.reason).toBeTruthy();
      }
      elements.push(...r.attempts.flatMap((a) => a.commitments.flatMap((c) => [c.hiding, c.binding])));
    }
    // No nonce element in two attempts, across every request of the key.
    expect(new Set(elements).size).toBe(elements.length);

    // The audit chain, and a bundle over the tree's latest checkpoint, verify.
    const verified = await cluster.api<{ ok: boolean; checked: number }>('GET', '/v1/audit/verify', undefined, 'any');
    expect(verified.ok).toBe(true);
    const logKey = await cluster.api<{ publicKey: string }>('GET', '/v1/audit/log-key', undefined, 'any');
    const bundle = await cluster.api<AuditBundle>('GET', `/v1/audit/bundle?from=1&to=${verified.checked}`, undefined, 'any');
    expect(verifyBundle(bundle, hexToBytes(logKey.publicKey))).toEqual(expect.objectContaining({ ok: true }));
  }, 180_000);

  it("fires a request's deadline exactly once, on another instance when the one that armed it is gone", async () => {
    const key = await cluster.dealKey('secp256k1', 5);
    // One node down: a 5-of-5 request can only expire.
    await cluster.stopSigner(4);
    const maker = 0;
    const deadline = new Date(Date.now() + 2_500).toISOString();
    const { id } = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message: 'expires', description: 'deadline', deadline }, maker);
    await cluster.crashCoordinator(maker);
    const r = await outcome(id);
    expect(r.status).toBe('expired');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const expired = await cluster.api<{ entries: unknown[] }>('GET', `/v1/audit?requestId=${id}&action=request.expired`, undefined, 'any');
    expect(expired.entries).toHaveLength(1);
    cluster.startSigner(4);
  }, 120_000);
});
