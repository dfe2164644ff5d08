import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyIndependently } from '#verify';
import { ADMIN_MAIN, COORDINATOR_MAIN, LocalCluster, runToEnd, SIGNER_MAIN, signerEnv, startProcess } from '#harness';
import { createTestDatabase } from './support/database.js';

/** The built apps as separate OS processes, the way an operator runs them (`npm test` builds first). */
describe('coordinator and signer processes', () => {
  let dir: string;
  let cluster: LocalCluster;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | null = null;

  beforeAll(async () => {
    if (!existsSync(COORDINATOR_MAIN) || !existsSync(SIGNER_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    dir = await mkdtemp(join(tmpdir(), 'roundtable-proc-'));
    cluster = new LocalCluster({
      workDir: join(dir, 'cluster'),
      nodes: 3,
      ...(process.env.DATABASE_URL ? { databaseUrl: (database = await createTestDatabase()).databaseUrl! } : {}),
    });
    await cluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the admin CLI runs a key ceremony among the signer processes, showing its progress, then signs with the key', async () => {
    const env = { ROUNDTABLE_ADMIN_TOKEN: cluster.adminToken, ROUNDTABLE_COORDINATOR: cluster.httpUrl };
    const child = startProcess('admin', ADMIN_MAIN, ['ceremony', 'start', '--suite', 'ed25519', '--threshold', '2', ...cluster.nodeIds.flatMap((id) => ['--node', id])], env);
    expect(await child.exited).toBe(0);
    const output = child.output.join('\n');
    // Progress lines (a ceremony among local processes may finish before the first poll sees round 1).
    expect(output).toMatch(/^ceremony [0-9a-f-]{36}: 2-of-3 ed25519/m);
    expect(output).toMatch(/^ {2}completed: key [0-9a-f-]{36}$/m);
    const key = JSON.parse(output.slice(output.indexOf('{'))) as { id: string; origin: string; groupPublicKey: string };
    expect(key.origin).toMatch(/^ceremony:/);

    const signed = JSON.parse(await runToEnd('admin sign', ADMIN_MAIN, ['sign', '--key', key.id, '--message', 'DKG key via the CLI', '--description', 'ops'], env)) as {
      status: string;
      signature: string;
    };
    expect(signed.status).toBe('completed');
    expect(await verifyIndependently('ed25519', signed.signature, new TextEncoder().encode('DKG key via the CLI'), key.groupPublicKey)).toBe(true);
    const verdict = JSON.parse(await runToEnd('admin audit', ADMIN_MAIN, ['audit', 'verify'], env)) as { ok: boolean };
    expect(verdict.ok).toBe(true);

    const bad = startProcess('admin', ADMIN_MAIN, ['keys', 'show', 'not-a-key'], env);
    expect(await bad.exited).toBe(1);
    expect(bad.output.join('\n')).toMatch(/VALIDATION_FAILED/);
  });

  it('signs with three signer processes and stops every process cleanly', async () => {
    const key = await cluster.dealKey('secp256k1', 2);
    const done = await cluster.sign(key.id, 'process-level signing', 'ops');
    expect(done.status).toBe('completed');
    expect(await verifyIndependently('secp256k1', done.signature!, new TextEncoder().encode('process-level signing'), key.groupPublicKey)).toBe(true);
    const exits = await cluster.stop();
    expect(exits).toEqual(expect.arrayContaining([{ name: 'coordinator', code: 0 }]));
    expect(exits.every((e) => e.code === 0)).toBe(true);
  });

  it('refuses to boot on a bad setting and names the variable', async () => {
    const child = startProcess('coordinator', COORDINATOR_MAIN, [], { ROUNDTABLE_ADMIN_TOKEN: 'short', PORT: 'eighty', DATABASE_URL: '' });
    expect(await child.exited).toBe(2);
    const text = child.output.join('\n');
    expect(text).toMatch(/ROUNDTABLE_ADMIN_TOKEN/);
    expect(text).toMatch(/PORT/);
  });

  it('a signer that is not enrolled gets a clear error and exit code 3', async () => {
    const other = new LocalCluster({ workDir: join(dir, 'lonely'), nodes: 0 });
    await other.start();
    try {
      const keystore = join(dir, 'stranger');
      const env = signerEnv('stranger passphrase');
      const { publicKey } = JSON.parse(await runToEnd('init', SIGNER_MAIN, ['init', '--keystore', keystore], env)) as { publicKey: string };
      const child = startProcess('stranger', SIGNER_MAIN, ['run', '--keystore', keystore, '--coordinator', other.wsUrl, '--approve-all'], env);
      expect(await child.exited).toBe(3);
      expect(child.output.join('\n')).toContain(publicKey);
    } finally {
      await other.stop();
    }
  });

  it('a signer without a passphrase says how to give one', async () => {
    const keystore = join(dir, 'locked');
    await runToEnd('init', SIGNER_MAIN, ['init', '--keystore', keystore], signerEnv('the passphrase'));
    const args = ['run', '--keystore', keystore, '--coordinator', 'ws://127.0.0.1:1/v1/nodes/ws', '--approve-all'];
    const child = startProcess('nopass', SIGNER_MAIN, args, { ROUNDTABLE_PASSPHRASE: '' });
    expect(await child.exited).toBe(1);
    expect(child.output.join('\n')).toMatch(/ROUNDTABLE_PASSPHRASE or pass --passphrase-file/);
  });

  it('a signer without a keystore says to run init', async () => {
    const args = ['run', '--keystore', join(dir, 'absent'), '--coordinator', 'ws://127.0.0.1:1/v1/nodes/ws', '--approve-all'];
    const child = startProcess('nokeys', SIGNER_MAIN, args, signerEnv('any passphrase'));
    expect(await child.exited).not.toBe(0);
    expect(child.output.join('\n')).toMatch(/init/);
  });
});

