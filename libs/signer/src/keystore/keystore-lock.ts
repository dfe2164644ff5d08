import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { acquireStoreLock, isStoreLockError, type StoreLock } from '#store-lock';
import { SignerError } from '../signer-error.js';
import { SECRET_DIR_MODE } from './atomic-file.js';

export type KeystoreLock = StoreLock;

export interface KeystoreLockOptions {
  /**
   * Called at most once if the lock is lost while held (KEYSTORE_LOCK_LOST): another process may be
   * using the keystore, so the holder must stop writing to it at once. Short commands may leave it out.
   */
  onLost?: (error: SignerError) => void;
  /** Create the keystore directory (mode 0700) if it does not exist (`signer init`). */
  create?: boolean;
}

/**
 * Takes the keystore's exclusive lock (see acquireStoreLock): one process at a time may write a
 * keystore. `signer run`, `signer init` and `signer import-share` hold it while they use the keystore;
 * the dealer does not (it only drops sealed shares into the inbox of a node that may be running), nor
 * do the read-only commands. A keystore another process holds fails with KEYSTORE_IN_USE, naming it.
 */
export async function lockKeystore(dir: string, options: KeystoreLockOptions = {}): Promise<KeystoreLock> {
  const root = resolve(dir);
  if (options.create) {
    await mkdir(root, { recursive: true, mode: SECRET_DIR_MODE });
  } else {
    try {
      await stat(root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SignerError('KEYSTORE_MISSING', `keystore ${root} does not exist; run \`signer init --keystore ${dir}\` first`);
      }
      throw new SignerError('KEYSTORE_MISSING', `keystore ${root} cannot be read: ${(e as Error).message}`, { cause: e });
    }
  }
  const onLost = options.onLost;
  try {
    return await acquireStoreLock(root, {
      what: 'keystore',
      onLost: (error) => onLost?.(new SignerError('KEYSTORE_LOCK_LOST', error.message, { cause: error })),
    });
  } catch (e) {
    if (isStoreLockError(e) && e.code === 'STORE_IN_USE') throw new SignerError('KEYSTORE_IN_USE', e.message, { cause: e });
    throw new SignerError('KEYSTORE_MISSING', (e as Error).message, { cause: e });
  }
}

/** Runs `work` holding the keystore's lock, released after it whatever it does. */
export async function withKeystoreLock<T>(dir: string, work: () => Promise<T>, options: KeystoreLockOptions = {}): Promise<T> {
  const lock = await lockKeystore(dir, options);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
