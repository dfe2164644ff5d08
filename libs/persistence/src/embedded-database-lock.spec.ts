import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DataSource } from 'typeorm';
import { STORE_LOCK_NAME, pathsOpenToOthers, type StoreLockError } from '#store-lock';
import { holdStoreLockInChild } from '../../store-lock/src/testing/store-lock-holder.js';
import { openDatabase } from './persistence.module.js';

/** The embedded database (PGlite in DATA_DIR): one process per directory, owner-only files. */
describe('embedded database directory', () => {
  let root: string;
  let dataDir: string;
  let open: DataSource[];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'roundtable-datadir-'));
    dataDir = join(root, 'data');
    open = [];
  });
  afterEach(async () => {
    for (const dataSource of open) if (dataSource.isInitialized) await dataSource.destroy();
    await rm(root, { recursive: true, force: true });
  });
  const openDb = async (options: { onLockLost?: (e: StoreLockError) => void } = {}) => {
    const dataSource = await openDatabase({ dataDir, ...options });
    open.push(dataSource);
    return dataSource;
  };
  const exists = (path: string) => stat(path).then(() => true, () => false);
  /** The error an open fails with; an open that succeeds is closed and yields undefined (never a DataSource to print). */
  const openError = () =>
    openDatabase({ dataDir }).then(
      async (dataSource) => {
        await dataSource.destroy();
        return undefined;
      },
      (e: unknown) => e,
    );

  it('a second open of the same directory is refused while the first holds it, and allowed once it is closed', async () => {
    const first = await openDb();
    expect(await exists(join(dataDir, STORE_LOCK_NAME))).toBe(true);
    expect(await openError()).toMatchObject({
      code: 'STORE_IN_USE',
      message: `embedded database directory ${dataDir} is already in use by this process (pid ${process.pid})`,
    });
    await first.query('CREATE TABLE kept (x int)');
    await first.destroy();
    expect(await exists(join(dataDir, STORE_LOCK_NAME))).toBe(false);
    const second = await openDb();
    expect(await second.query('SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 0 }]);
  });

  it('refuses a directory another process holds, in one line naming its pid, before PGlite touches it', async () => {
    await mkdir(dataDir);
    const holder = await holdStoreLockInChild(dataDir);
    try {
      expect(await openError()).toMatchObject({
        code: 'STORE_IN_USE',
        message: `embedded database directory ${dataDir} is in use by another process (pid ${holder.pid}); stop it first`,
      });
      expect(await exists(join(dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      await holder.stop();
    }
    await openDb();
  });

  it('takes over at once the directory of a coordinator killed with SIGKILL', async () => {
    await mkdir(dataDir);
    const killed = await holdStoreLockInChild(dataDir);
    await killed.kill();
    expect(await exists(join(dataDir, STORE_LOCK_NAME))).toBe(true);
    // The lock is seconds old, far from stale: only the dead holder's pid lets this open through.
    await openDb();
  });

  it('memory:// needs no lock', async () => {
    const dataSource = await openDatabase({ dataDir: 'memory://' });
    open.push(dataSource);
    expect(await exists(join(process.cwd(), 'memory:'))).toBe(false);
  });

  it('keeps the directory and every file in it its owner\'s only, an existing wider directory included', async () => {
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    await writeFile(join(dataDir, 'left-by-someone'), 'x', { mode: 0o644 });
    await chmod(join(dataDir, 'left-by-someone'), 0o644);
    const umask = process.umask(0o022);
    try {
      const dataSource = await openDb();
      expect(await pathsOpenToOthers(dataDir)).toEqual([]);
      await dataSource.query('CREATE TABLE t (x int)');
      await dataSource.query('INSERT INTO t SELECT generate_series(1, 1000)');
      await dataSource.query('CHECKPOINT');
      await dataSource.destroy();
      expect(await pathsOpenToOthers(dataDir)).toEqual([]);
      // and again after a restart on the existing directory
      await (await openDb()).destroy();
      expect(await pathsOpenToOthers(dataDir)).toEqual([]);
    } finally {
      process.umask(umask);
    }
  });

  it('reports a lock lost while open (the directory may have another writer now)', async () => {
    const onLockLost = vi.fn<(e: StoreLockError) => void>();
    await openDb({ onLockLost });
    await rm(join(dataDir, STORE_LOCK_NAME), { recursive: true });
    await vi.waitFor(() => expect(onLockLost).toHaveBeenCalledTimes(1), { timeout: 8_000, interval: 100 });
    expect(onLockLost.mock.calls[0]![0]).toMatchObject({ code: 'STORE_LOCK_LOST' });
  }, 15_000);
});
