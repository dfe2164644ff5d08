import { createServer, Socket, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { loadConfig, startCoordinator, type RunningCoordinator } from '#coordinator';
import { ADMIN_TOKEN } from './support/coordinator.js';
import { createTestDatabase } from './support/database.js';
import { dealtKeyRegistration } from './support/keys.js';

/** A TCP proxy to PostgreSQL that a test can cut (every connection dropped, none accepted) and restore. */
class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : this.port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

type Json = Record<string, unknown>;

describe.runIf(process.env.DATABASE_URL)('database connection lost and back (PostgreSQL server)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: CuttableProxy;
  let coordinator: RunningCoordinator;
  let keyId = '';

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${coordinator.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const eventually = async (what: string, check: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(db.databaseUrl!);
    proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
    await proxy.up();
    const viaProxy = new URL(db.databaseUrl!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    coordinator = await startCoordinator({
      ...loadConfig({ ROUNDTABLE_ADMIN_TOKEN: ADMIN_TOKEN }),
      host: '127.0.0.1',
      port: 0,
      databaseUrl: viaProxy.toString(),
      dataDir: db.dataDir,
      adminToken: ADMIN_TOKEN,
      coordinatorId: 'roundtable-outage-test',
      attemptStaggerMs: 100,
      requestTtlMs: 30_000,
      maxRequestTtlMs: 86_400_000,
      logLevel: 'silent',
      logFormat: 'text',
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call('POST', '/v1/nodes', { publicKey: generateIdentity().publicKey, label: `n${i}` })).body.id as string);
    const registered = await call('POST', '/v1/keys', dealtKeyRegistration('ed25519', 2, ids).body);
    keyId = registered.body.id as string;
  });

  afterAll(async () => {
    await proxy?.up();
    await coordinator?.close();
    await proxy?.cut();
    await db?.drop();
  });

  it('reports unhealthy and refuses new work with DATABASE_UNAVAILABLE while cut off, then recovers without a restart', async () => {
    expect((await fetch(`${coordinator.httpUrl}/health`)).status).toBe(200);
    expect((await call('POST', '/v1/signing-requests', { keyId, message: 'before' })).status).toBe(201);

    await proxy.cut();
    await eventually('health to report the database down', async () => (await fetch(`${coordinator.httpUrl}/health`)).status === 503);
    const health = (await (await fetch(`${coordinator.httpUrl}/health`)).json()) as { error: { code: string } };
    expect(health.error.code).toBe('DATABASE_UNAVAILABLE');
    const refused = await call('POST', '/v1/signing-requests', { keyId, message: 'during' });
    expect(refused.status).toBe(503);
    expect((refused.body.error as Json).code).toBe('DATABASE_UNAVAILABLE');

    await proxy.up();
    await eventually('health to recover', async () => (await fetch(`${coordinator.httpUrl}/health`)).status === 200);
    const after = await call('POST', '/v1/signing-requests', { keyId, message: 'after' });
    expect(after.status).toBe(201);
    expect((await call('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });
});
