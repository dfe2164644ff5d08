import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Bits no file of a store may have: group and other, any of read, write, execute. */
const GROUP_AND_OTHER = 0o077;

/**
 * Narrows the process umask so that every file and directory this process creates from now on is its
 * owner's only (as if by `umask 077`), whatever the umask it was started with. Call it early, before
 * anything is written. It only narrows: bits already masked stay masked. In a worker thread (where
 * the umask cannot be set) it does nothing; explicit modes and restrictTreeToOwner still apply.
 */
export function restrictUmask(): void {
  try {
    const previous = process.umask(GROUP_AND_OTHER);
    if ((previous | GROUP_AND_OTHER) !== GROUP_AND_OTHER) process.umask(previous | GROUP_AND_OTHER);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_WORKER_UNSUPPORTED_OPERATION') throw e;
  }
}

/**
 * Makes a directory tree its owner's only: directories 0700, files stripped of group and other bits
 * and of execute (so 0600 at most). For files written by code whose modes we do not choose (PGlite
 * copies its initial database with mode 0666 and chmods some files 0644 itself, whatever the umask).
 * Symbolic links are neither followed nor changed. Entries that vanish meanwhile are skipped.
 */
export async function restrictTreeToOwner(root: string): Promise<void> {
  const visit = async (path: string): Promise<void> => {
    let info;
    try {
      info = await lstat(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (info.isSymbolicLink()) return;
    const mode = info.mode & 0o777;
    const wanted = info.isDirectory() ? 0o700 : mode & 0o600;
    if (mode !== wanted) await chmod(path, wanted).catch(ignoreVanished);
    if (!info.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names) await visit(join(path, name));
  };
  await visit(root);
}

/** Paths under `root` (itself included) that group or others may read, write or enter: for tests and checks. */
export async function pathsOpenToOthers(root: string): Promise<{ path: string; mode: string }[]> {
  const open: { path: string; mode: string }[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) return;
    if ((info.mode & GROUP_AND_OTHER) !== 0) open.push({ path, mode: (info.mode & 0o777).toString(8).padStart(4, '0') });
    if (info.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return open;
}

const ignoreVanished = (e: unknown): void => {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
};
