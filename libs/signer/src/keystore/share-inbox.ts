import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SignerError } from '../signer-error.js';
import { SECRET_DIR_MODE, fsyncDirectory, writeFileAtomic } from './atomic-file.js';
import { INBOX_DIR, SEALED_SUFFIX, assertUuid, exists, inboxPathIn, listNames, sharePathIn } from './keystore-files.js';

/**
 * The keystore's inbox (`inbox/<keyId>.sealed.json`) as seen from outside the node: a dealer drops a
 * share sealed to the node's identity there, or takes back one the coordinator refused. None of it
 * needs the passphrase; the node opens and imports what waits there (Keystore.importInbox).
 */

/** True when the keystore holds a share of `keyId` or has one waiting in its inbox (no passphrase needed). */
export async function holdsKey(dir: string, keyId: string): Promise<boolean> {
  assertUuid(keyId);
  const root = resolve(dir);
  return (await exists(sharePathIn(root, keyId))) || (await exists(inboxPathIn(root, keyId)));
}

/** Drops a share sealed to the keystore's identity (see sealShareToIdentity) into its inbox. */
export async function deliverSealedShare(dir: string, keyId: string, sealed: string): Promise<void> {
  if (await holdsKey(dir, keyId)) {
    throw new SignerError('SHARE_EXISTS', `keystore ${resolve(dir)} already holds a share of key ${keyId}`);
  }
  await mkdir(join(resolve(dir), INBOX_DIR), { recursive: true, mode: SECRET_DIR_MODE });
  await writeFileAtomic(inboxPathIn(resolve(dir), keyId), sealed);
}

/** Removes a sealed share not yet imported (a dealing the coordinator refused). */
export async function withdrawSealedShare(dir: string, keyId: string): Promise<void> {
  assertUuid(keyId);
  await rm(inboxPathIn(resolve(dir), keyId), { force: true });
  await fsyncDirectory(join(resolve(dir), INBOX_DIR));
}

/** The key ids of the sealed shares waiting in the inbox of the keystore at `root`, sorted. */
export async function inboxKeyIds(root: string): Promise<string[]> {
  return (await listNames(join(root, INBOX_DIR)))
    .filter((n) => n.endsWith(SEALED_SUFFIX))
    .map((n) => n.slice(0, -SEALED_SUFFIX.length))
    .sort();
}
