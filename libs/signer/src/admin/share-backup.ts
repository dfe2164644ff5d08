import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../keystore/atomic-file.js';
import { Keystore } from '../keystore/keystore.js';
import { withKeystoreLock } from '../keystore/keystore-lock.js';
import type { KdfCost } from '../keystore/passphrase-key.js';
import { SignerError } from '../signer-error.js';

export interface ShareBackupOptions {
  keystore: string;
  passphrase: string;
  /** A passphrase of its own for the backup file, so that the backup does not share the keystore's fate. */
  exportPassphrase: string;
}

/** `signer export-share`: writes the share of `keyId` to `out` (mode 0600), encrypted under the export passphrase. */
export async function exportShare(
  options: ShareBackupOptions & { keyId: string; out: string; kdfCost?: KdfCost },
): Promise<{ keyId: string; out: string }> {
  const out = resolve(options.out);
  if (await stat(out).then(() => true, () => false)) {
    throw new SignerError('INVALID_CONFIG', `${out} already exists; refusing to overwrite it`);
  }
  const keystore = await Keystore.open(options.keystore, { passphrase: options.passphrase });
  const text = await keystore.exportShare(options.keyId, options.exportPassphrase, options.kdfCost);
  await writeFileAtomic(out, text);
  return { keyId: options.keyId.toLowerCase(), out };
}

export interface ImportShareResult {
  keyId: string;
  keystore: string;
  /** The importing keystore's identity public key. */
  identity: string;
  /** The identity that made the backup (null: a backup from before exports recorded it). */
  exportedBy: string | null;
  /** True when `force` imported a backup made by another (or an unrecorded) identity. */
  forced: boolean;
}

/**
 * `signer import-share`: stores a share exported by `exportShare` in the keystore (never over an
 * existing one), holding the keystore's lock. A backup made by another identity is refused
 * (SHARE_IDENTITY_MISMATCH) unless `force` is set.
 */
export async function importShare(options: ShareBackupOptions & { in: string; force?: boolean }): Promise<ImportShareResult> {
  let text: string;
  try {
    text = await readFile(resolve(options.in), 'utf8');
  } catch (e) {
    throw new SignerError('INVALID_CONFIG', `cannot read ${options.in}: ${(e as Error).message}`, { cause: e });
  }
  return withKeystoreLock(options.keystore, async () => {
    const keystore = await Keystore.open(options.keystore, { passphrase: options.passphrase });
    const imported = await keystore.importShare(text, options.exportPassphrase, { force: options.force ?? false });
    return {
      keyId: imported.share.keyId,
      keystore: keystore.dir,
      identity: keystore.publicKey,
      exportedBy: imported.exportedBy,
      forced: imported.forced,
    };
  });
}
