import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COORDINATOR_MAIN, LocalCluster, SIGNER_MAIN, freePort, signerEnv, startProcess, stopProcess } from '#harness';
import { pathsOpenToOthers } from '#store-lock';

/**
 * One process per store, with the built apps as OS processes: a second coordinator on the same
 * embedded-database DATA_DIR and a second signer on the same keystore refuse to start, naming the
 * holder; a process killed with SIGKILL is restarted at once on the same store. (The embedded database
 * only: with DATABASE_URL there is no directory to lock.)
 */
describe('one process per store (real processes)', () => {
  let dir: string;
  let cluster: LocalCluster;
  let dataDir: string;

  beforeAll(async () => {
    if (!existsSync(COORDINATOR_MAIN) || !existsSync(SIGNER_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    dir = await mkdtemp(join(tmpdir(), 'roundtable-store-lock-'));
    cluster = new LocalCluster({ workDir: join(dir, 'cluster'), nodes: 1 });
    dataDir = join(dir, 'cluster', 'coordinator');
    await cluster.start();
  });

  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a second coordinator on the same DATA_DIR refuses to start, naming the first one\'s pid; a killed one restarts at once', async () => {
    const first = cluster.coordinator!;
    const second = startProcess('coordinator-2', COORDINATOR_MAIN, [], {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_TOKEN: cluster.adminToken,
      ROUNDTABLE_ADMIN_TOKEN: cluster.adminToken,
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    });
    const code = await second.exited;
    expect(code).not.toBe(0);
    expect(second.output.join('\n')).toContain(
      `embedded database directory ${dataDir} is in use by another process (pid ${first.process.pid}); stop it first`,
    );
    // The first one never noticed.
    expect((await fetch(`${cluster.httpUrl}/health`)).ok).toBe(true);
    // SIGKILL leaves the lock behind; the restart takes it over at once (it would exit "in use" otherwise).
    await cluster.crashAndRestartCoordinator();
    await cluster.waitForConnected(cluster.nodeIds);
  });

  it('a second signer on the same keystore exits 5 naming the first one\'s pid, so does init --force; a killed one restarts at once', async () => {
    const keystore = cluster.keystores[0]!;
    const env = signerEnv(cluster.passphrases[0]!);
    const first = cluster.signers[0]!;
    const expected = `error: keystore ${keystore} is in use by another process (pid ${first.process.pid}); stop it first`;

    const second = startProcess('node-1-again', SIGNER_MAIN, ['run', '--keystore', keystore, '--coordinator', cluster.wsUrl, '--approve-all'], env);
    expect(await second.exited).toBe(5);
    expect(second.output).toContain(expected);
    const init = startProcess('init --force', SIGNER_MAIN, ['init', '--keystore', keystore, '--force'], env);
    expect(await init.exited).toBe(5);
    expect(init.output).toContain(expected);

    first.process.kill('SIGKILL');
    await first.exited;
    const restarted = cluster.startSigner(0);
    await cluster.waitForConnected(cluster.nodeIds);
    expect(restarted.process.exitCode).toBeNull();
  });

  it('leaves DATA_DIR and the keystore readable and writable by their owner only', async () => {
    await stopProcess(cluster.signers[0]!);
    await stopProcess(cluster.coordinator!);
    expect(await pathsOpenToOthers(dataDir)).toEqual([]);
    expect(await pathsOpenToOthers(cluster.keystores[0]!)).toEqual([]);
  });
});
