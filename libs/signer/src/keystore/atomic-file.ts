import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Owner read/write only: every keystore file holds or protects a secret. */
export const SECRET_FILE_MODE = 0o600;
/** Owner only: the keystore directory. */
export const SECRET_DIR_MODE = 0o700;

const TEMP_SUFFIX = '.tmp';
export const isTempFile = (name: string): boolean => name.endsWith(TEMP_SUFFIX);

/**
 * Makes a directory entry (a created, renamed or removed file) durable. Linux needs the directory
 * itself fsync'd; platforms that cannot open a directory for sync (Windows) are skipped.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch (e) {
    if (isUnsupported(e)) return;
    throw e;
  }
  try {
    await handle.sync();
  } catch (e) {
    if (!isUnsupported(e)) throw e;
  } finally {
    await handle.close();
  }
}

const isUnsupported = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM';
};

/**
 * Replaces `path` with `data` so that a crash leaves either the old file or the new one, never a
 * mix: write a temp file (mode 0600) beside it, fsync it, rename it over, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await open(temp, 'wx', SECRET_FILE_MODE);
  try {
    try {
      // The umask can only remove bits, but a pre-set ACL or odd umask must not widen them either.
      await handle.chmod(SECRET_FILE_MODE);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await fsyncDirectory(dir);
}
