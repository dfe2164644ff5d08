import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pathsOpenToOthers } from './owner-only.js';
import { STORE_LOCK_NAME, acquireStoreLock, type LockHolder, type StoreLock, type StoreLockError } from './store-lock.js';
import { holdStoreLockInChild } from './testing/store-lock-holder.js';

const pidNamespace = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/** A live process that is not this one (to play a holder that is running). */
function startSleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
}

/** The pid of a process that has exited (to play a holder killed with SIGKILL). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('acquireStoreLock', () => {
  let dir: string;
  let locks: StoreLock[];
  let children: ChildProcess[];
  const onLost = vi.fn<(e: StoreLockError) => void>();
  const acquire = async (options: { staleMs?: number } = {}) => {
    const lock = await acquireStoreLock(dir, { what: 'keystore', onLost, ...options });
    locks.push(lock);
    return lock;
  };
  const failure = (options: { staleMs?: number } = {}) => acquire(options).then(
    () => {
      throw new Error('expected the lock to be refused');
    },
    (e: unknown) => e as StoreLockError,
  );
  /** Leaves a lock as another process would have: the directory, and its holder record unless null. */
  const plantLock = async (holder: Partial<LockHolder> | null, ageMs = 0) => {
    const lockDir = join(dir, STORE_LOCK_NAME);
    await mkdir(lockDir);
    if (holder) {
      const record = { pid: 1, host: hostname(), ...(pidNamespace ? { pidNamespace } : {}), since: new Date().toISOString(), ...holder };
      await writeFile(join(lockDir, 'holder.json'), JSON.stringify(record));
    }
    const at = new Date(Date.now() - ageMs);
    await utimes(lockDir, at, at);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roundtable-lock-'));
    locks = [];
    children = [];
    onLost.mockReset();
  });
  afterEach(async () => {
    for (const lock of locks) await lock.release();
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('records the holder in the lock, owner-only, and a release removes it', async () => {
    const lock = await acquire();
    const holder = JSON.parse(await readFile(join(dir, STORE_LOCK_NAME, 'holder.json'), 'utf8')) as LockHolder;
    expect(holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(await pathsOpenToOthers(dir)).toEqual([]);
    await lock.release();
    await lock.release();
    await expect(stat(join(dir, STORE_LOCK_NAME))).rejects.toMatchObject({ code: 'ENOENT' });
    await (await acquire()).release();
    expect(onLost).not.toHaveBeenCalled();
  });

  it('refuses a second holder in this process', async () => {
    await acquire();
    expect(await failure()).toMatchObject({ code: 'STORE_IN_USE', message: expect.stringMatching(/already in use by this process \(pid \d+\)/) as unknown });
  });

  it('refuses at once while another live process holds it, naming its pid', async () => {
    const sleeper = startSleeper();
    children.push(sleeper);
    await plantLock({ pid: sleeper.pid! });
    const started = Date.now();
    const error = await failure();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe('STORE_IN_USE');
    expect(error.message).toBe(`keystore ${dir} is in use by another process (pid ${sleeper.pid}); stop it first`);
    expect(error.holder?.pid).toBe(sleeper.pid);
  });

  it('with a real second process: refused while it runs, free once it stops, taken over at once after a SIGKILL', async () => {
    const holder = await holdStoreLockInChild(dir);
    try {
      expect((await failure()).message).toBe(`keystore ${dir} is in use by another process (pid ${holder.pid}); stop it first`);
    } finally {
      await holder.stop();
    }
    await expect(stat(join(dir, STORE_LOCK_NAME))).rejects.toMatchObject({ code: 'ENOENT' });
    const killed = await holdStoreLockInChild(dir);
    await killed.kill();
    expect((await stat(join(dir, STORE_LOCK_NAME))).isDirectory()).toBe(true);
    const started = Date.now();
    await acquire();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  /** Keeps a planted lock fresh, as a live holder elsewhere would (its refresh). */
  const keepFresh = () => {
    const timer = setInterval(() => {
      const now = new Date();
      void utimes(join(dir, STORE_LOCK_NAME), now, now).catch(() => undefined);
    }, 200);
    return () => clearInterval(timer);
  };

  it('waits for a holder it cannot check (another host): refused, naming the host, while it keeps its lock fresh', async () => {
    await plantLock({ pid: 4242, host: 'elsewhere' });
    const stop = keepFresh();
    try {
      const started = Date.now();
      const error = await failure({ staleMs: 2_000 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
      expect(error.message).toBe(`keystore ${dir} is in use by another process (pid 4242 on host elsewhere); stop it first`);
      await rm(join(dir, STORE_LOCK_NAME), { recursive: true });
      await plantLock(null);
      expect((await failure({ staleMs: 2_000 })).message).toMatch(/in use by another process \(its lock .* names no holder yet\); stop it first/);
    } finally {
      stop();
    }
  });

  it('takes over the lock of a holder it cannot check once it is no longer refreshed (a restarted container)', async () => {
    // Same host, another PID namespace: the pid means nothing here, dead or not.
    await plantLock({ pid: await deadPid(), pidNamespace: 'pid:[1]' });
    const started = Date.now();
    await acquire({ staleMs: 2_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('takes over at once the lock of a holder that died on this host (SIGKILL leaves it behind)', async () => {
    await plantLock({ pid: await deadPid() });
    const started = Date.now();
    await acquire();
    expect(Date.now() - started).toBeLessThan(1_000);
    const holder = JSON.parse(await readFile(join(dir, STORE_LOCK_NAME, 'holder.json'), 'utf8')) as LockHolder;
    expect(holder.pid).toBe(process.pid);
  });

  it('takes over a lock recorded with its own pid by an earlier process (a restarted container)', async () => {
    await plantLock({ pid: process.pid });
    await acquire();
  });

  it('takes over at once a lock left unrefreshed for longer than staleMs, on another host too', async () => {
    await plantLock({ pid: 4242, host: 'elsewhere' }, 60_000);
    const started = Date.now();
    await acquire();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('takes over an abandoned lock (not refreshed for staleMs) whoever it names', async () => {
    const sleeper = startSleeper();
    children.push(sleeper);
    await plantLock({ pid: sleeper.pid! }, 30_000);
    await acquire({ staleMs: 10_000 });
  });

  it('reports a lock lost while held: removed, or replaced by another holder', async () => {
    await acquire({ staleMs: 2_000 });
    await rm(join(dir, STORE_LOCK_NAME), { recursive: true });
    await vi.waitFor(() => expect(onLost).toHaveBeenCalledTimes(1), { timeout: 4_000, interval: 50 });
    expect(onLost.mock.calls[0]![0]).toMatchObject({ code: 'STORE_LOCK_LOST', message: expect.stringMatching(/lost the lock on keystore .*another process may be using it/) as unknown });

    onLost.mockReset();
    await acquire({ staleMs: 2_000 });
    await rm(join(dir, STORE_LOCK_NAME), { recursive: true });
    await plantLock({ pid: 4242, host: 'elsewhere' });
    await vi.waitFor(() => expect(onLost).toHaveBeenCalledTimes(1), { timeout: 4_000, interval: 50 });
    // The other holder's lock is left alone by the release of the lost one.
    for (const lock of locks) await lock.release();
    expect(JSON.parse(await readFile(join(dir, STORE_LOCK_NAME, 'holder.json'), 'utf8'))).toMatchObject({ pid: 4242 });
  });

  it('fails clearly on a directory that does not exist', async () => {
    const error = await acquireStoreLock(join(dir, 'absent'), { what: 'keystore', onLost }).catch((e: unknown) => e as StoreLockError);
    expect(error).toMatchObject({ code: 'STORE_LOCK_FAILED', message: expect.stringMatching(/cannot lock keystore .*absent/) as unknown });
  });
});
