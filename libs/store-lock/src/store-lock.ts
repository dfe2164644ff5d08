import fs from 'node:fs';
import { readFile, realpath, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { lock } from 'proper-lockfile';

/** The lock's directory, inside the store it locks (so that every process that can reach the store sees it). */
export const STORE_LOCK_NAME = '.lock';
/** Inside the lock directory: who holds it (see LockHolder). */
const HOLDER_FILE = 'holder.json';
/** A lock not refreshed for this long counts as abandoned (proper-lockfile's `stale`; it refreshes every half of it). */
const DEFAULT_STALE_MS = 10_000;
/** How often an acquire waiting for an unchecked holder looks again. */
const RETRY_MS = 250;

/** Who holds a store lock, as recorded in it. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The holder's PID namespace on Linux (`/proc/self/ns/pid`): a pid means nothing outside its namespace. */
  pidNamespace?: string;
  /** When it took the lock (ISO 8601). */
  since: string;
}

export type StoreLockErrorCode =
  /** Another process (or this one) holds the lock. */
  | 'STORE_IN_USE'
  /** The lock was lost while held: removed, replaced, or not refreshed in time. */
  | 'STORE_LOCK_LOST'
  /** The lock could not be taken for another reason (permissions, a missing directory). */
  | 'STORE_LOCK_FAILED';

export class StoreLockError extends Error {
  constructor(
    readonly code: StoreLockErrorCode,
    message: string,
    readonly holder?: LockHolder,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreLockError';
  }
}

export const isStoreLockError = (e: unknown): e is StoreLockError => e instanceof StoreLockError;

export interface StoreLockOptions {
  /** What the directory is, for messages: "keystore", "embedded database directory". */
  what: string;
  /**
   * Called at most once if the lock is lost while held: this process may no longer be the directory's
   * only writer, and must stop writing to it.
   */
  onLost: (error: StoreLockError) => void;
  /** See DEFAULT_STALE_MS; at least 2000 (proper-lockfile's floor). */
  staleMs?: number;
}

export interface StoreLock {
  /** The locked directory (its real path). */
  readonly dir: string;
  /** Releases the lock; later calls do nothing. */
  release(): Promise<void>;
}

/** Directories this process holds, so that a second acquire in the same process is refused too. */
const held = new Set<string>();

/**
 * Takes the exclusive lock on a store directory (a signer's keystore, the coordinator's embedded
 * database), for as long as the process uses it. One process per store: a second one fails at once
 * with a StoreLockError (`STORE_IN_USE`) naming the holder.
 *
 * The lock is proper-lockfile's: a directory `<dir>/.lock` made by an atomic mkdir, whose mtime the
 * holder refreshes every `staleMs / 2`; one not refreshed for `staleMs` is abandoned and taken over.
 * Inside it, `holder.json` records the holder's pid, host and PID namespace. So:
 * - a holder on this host and in this PID namespace is checked: alive, the acquire fails at once;
 *   provably dead (no such process, e.g. after a SIGKILL), its lock is taken over at once;
 * - a holder that cannot be checked (another host, another PID namespace such as a restarted
 *   container, or one that has not recorded itself yet) is waited for, at most `staleMs` and a second:
 *   a lock it stops refreshing is taken over, one it keeps refreshing fails the acquire.
 * A lock that is removed, replaced or left unrefreshed while held is reported to `onLost`.
 *
 * Known limit: two processes taking over the same dead holder's lock at the same instant can both
 * succeed (proper-lockfile's stale takeover has the same window); the loser's lock refresh then finds
 * the lock not its own and reports it lost, within `staleMs / 2`.
 */
export async function acquireStoreLock(dir: string, options: StoreLockOptions): Promise<StoreLock> {
  const { what } = options;
  let root: string;
  try {
    root = await realpath(resolve(dir));
  } catch (e) {
    throw new StoreLockError('STORE_LOCK_FAILED', `cannot lock ${what} ${resolve(dir)}: ${(e as Error).message}`, undefined, { cause: e });
  }
  const lockPath = join(root, STORE_LOCK_NAME);
  const self = currentHolder();
  if (held.has(root)) {
    throw new StoreLockError('STORE_IN_USE', `${what} ${root} is already in use by this process (pid ${self.pid})`, self);
  }
  const stale = Math.max(options.staleMs ?? DEFAULT_STALE_MS, 2_000);
  let lost = false;
  const onCompromised = (error: Error) => {
    if (lost) return;
    lost = true;
    held.delete(root);
    options.onLost(
      new StoreLockError(
        'STORE_LOCK_LOST',
        `lost the lock on ${what} ${root} (${error.message}): another process may be using it`,
        undefined,
        { cause: error },
      ),
    );
  };

  // Long enough for an unchecked holder's lock to go stale, if it is no longer refreshed.
  const waitUntil = Date.now() + stale + 1_000;
  let release: (() => Promise<void>) | undefined;
  while (release === undefined) {
    try {
      release = await lock(root, { lockfilePath: lockPath, stale, retries: 0, realpath: false, fs: lockFs(self), onCompromised });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new StoreLockError('STORE_LOCK_FAILED', `cannot lock ${what} ${root}: ${(e as Error).message}`, undefined, { cause: e });
      }
      const holder = await readHolder(lockPath);
      const state = holder ? holderState(holder, self) : 'unchecked';
      if (state === 'dead' && holder && (await removeLockOf(lockPath, holder))) continue;
      if (state === 'alive' || Date.now() >= waitUntil) throw inUse(what, root, holder, self);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  held.add(root);
  let released = false;
  return {
    dir: root,
    release: async () => {
      if (released) return;
      released = true;
      if (lost) return;
      held.delete(root);
      await release().catch((e: unknown) => {
        // Compromised in the meantime: nothing of ours is left to remove.
        if ((e as NodeJS.ErrnoException).code !== 'ERELEASED') throw e;
      });
    },
  };
}

function inUse(what: string, root: string, holder: LockHolder | undefined, self: LockHolder): StoreLockError {
  if (!holder) {
    return new StoreLockError(
      'STORE_IN_USE',
      `${what} ${root} is in use by another process (its lock ${join(root, STORE_LOCK_NAME)} names no holder yet); stop it first`,
    );
  }
  const where = holder.host !== self.host ? ` on host ${holder.host}` : '';
  return new StoreLockError('STORE_IN_USE', `${what} ${root} is in use by another process (pid ${holder.pid}${where}); stop it first`, holder);
}

function currentHolder(): LockHolder {
  const pidNamespace = readPidNamespace();
  return { pid: process.pid, host: hostname(), ...(pidNamespace ? { pidNamespace } : {}), since: new Date().toISOString() };
}

function readPidNamespace(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * What can be known of a recorded holder from here: on this host and in this PID namespace, whether a
 * process has its pid (`alive`) or none has (`dead`, beyond doubt); elsewhere, nothing (`unchecked`).
 */
function holderState(holder: LockHolder, self: LockHolder): 'alive' | 'dead' | 'unchecked' {
  if (holder.host !== self.host || holder.pidNamespace !== self.pidNamespace) return 'unchecked';
  // Our own pid, in a lock this process does not hold: an earlier process that had our pid.
  if (holder.pid === self.pid) return 'dead';
  try {
    process.kill(holder.pid, 0);
    return 'alive';
  } catch (e) {
    // EPERM: the process exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'ESRCH' ? 'dead' : 'alive';
  }
}

async function readHolder(lockPath: string): Promise<LockHolder | undefined> {
  let text: string;
  try {
    text = await readFile(join(lockPath, HOLDER_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return undefined;
    if (typeof parsed.host !== 'string' || typeof parsed.since !== 'string') return undefined;
    if (parsed.pidNamespace !== undefined && typeof parsed.pidNamespace !== 'string') return undefined;
    return parsed as LockHolder;
  } catch {
    return undefined;
  }
}

/** Removes the lock directory if it still names `holder` (it may have been taken over meanwhile). */
async function removeLockOf(lockPath: string, holder: LockHolder): Promise<boolean> {
  const now = await readHolder(lockPath);
  if (!now || JSON.stringify(now) !== JSON.stringify(holder)) return false;
  await rm(lockPath, { recursive: true, force: true });
  return true;
}

/**
 * The fs proper-lockfile uses, with the holder record added: it is written inside the lock directory
 * as part of making it (before proper-lockfile probes and records the directory's mtime, which the
 * write would otherwise change), and removed with it.
 */
function lockFs(self: LockHolder) {
  const removeTree = (path: fs.PathLike, callback: (error: NodeJS.ErrnoException | null) => void) =>
    fs.rm(path, { recursive: true, force: true }, callback);
  return {
    ...fs,
    mkdir: (path: string, callback: (error: NodeJS.ErrnoException | null) => void) => {
      fs.mkdir(path, { mode: 0o700 }, (error) => {
        if (error) return callback(error);
        const holderPath = join(path, HOLDER_FILE);
        fs.writeFile(holderPath, `${JSON.stringify(self)}\n`, { mode: 0o600, flag: 'wx' }, (writeError) => {
          if (!writeError) return callback(null);
          removeTree(path, () => callback(writeError));
        });
      });
    },
    rmdir: removeTree,
    // proper-lockfile removes the locks still held when the process exits (signal-exit), synchronously.
    rmdirSync: (path: fs.PathLike) => fs.rmSync(path, { recursive: true, force: true }),
  };
}
