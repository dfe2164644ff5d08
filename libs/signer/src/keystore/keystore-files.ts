import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { assertShareMatchesPublic, assertValidPublicPackage, identitySign, identityVerify, utf8, type IdentityKeyPair } from '#crypto';
import { SignerError, type SignerErrorCode } from '../signer-error.js';
import { openFile, readFileHeader } from './encrypted-file.js';
import { IdentityRecord, type KeyShare, type ShareRecord } from './keystore-records.js';
import { PassphraseKey } from './passphrase-key.js';

/**
 * The keystore's layout on disk and the checks every file read goes through (see Keystore): names,
 * paths, opening the identity, parsing and checking records.
 */

export const IDENTITY_FILE = 'identity.json';
export const SHARES_DIR = 'shares';
export const INBOX_DIR = 'inbox';
export const NONCE_JOURNAL_FILE = 'nonces.jsonl';
export const PENDING_DIR = 'pending';
export const APPROVALS_DIR = 'approvals';
export const GRANTS_DIR = 'grants';
export const WITNESS_DIR = 'witness';
export const APPROVALS_SOCKET_FILE = 'approvals.sock';
export const PENDING_SUFFIX = '.pending';
export const SEALED_SUFFIX = '.sealed.json';
export const REJECTED_SUFFIX = '.rejected';
export const EXPORT_PURPOSE_PREFIX = 'share-export:';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const initHint = (dir: string) => `run \`signer init --keystore ${dir}\` first`;
export const sharePurpose = (keyId: string) => `share:${keyId.toLowerCase()}`;
export const pendingPurpose = (keyId: string) => `pending:${keyId.toLowerCase()}`;

/** Resolves and checks the keystore directory and its identity file exist. */
export async function existingKeystore(dir: string): Promise<string> {
  const root = resolve(dir);
  let info;
  try {
    info = await stat(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SignerError('KEYSTORE_MISSING', `keystore ${root} does not exist; ${initHint(dir)}`);
    }
    throw new SignerError('KEYSTORE_MISSING', `keystore ${root} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (!info.isDirectory()) throw new SignerError('KEYSTORE_MISSING', `keystore ${root} is not a directory`);
  if (!(await exists(join(root, IDENTITY_FILE)))) {
    throw new SignerError('KEYSTORE_NOT_INITIALIZED', `keystore ${root} has no identity; ${initHint(dir)}`);
  }
  return root;
}

/** Derives the keystore key from the identity file's header and decrypts the identity with it. */
export async function unlock(root: string, passphrase: string): Promise<{ key: PassphraseKey; identity: IdentityKeyPair }> {
  if (!passphrase) throw new SignerError('PASSPHRASE_MISSING', `a passphrase is required to open keystore ${root}`);
  const path = join(root, IDENTITY_FILE);
  const label = `identity (${path})`;
  const file = readFileHeader(await readText(path, label), label);
  const key = await PassphraseKey.derive(passphrase, file.kdf);
  const record = parseRecord(openFile(file, key, { purpose: 'identity', what: label, firstUnlock: true }), IdentityRecord, 'IDENTITY_CORRUPT', label);
  if (file.publicKey !== record.publicKey) {
    throw new SignerError('KEYSTORE_TAMPERED', `${label}: the public key in its header is not the one inside`);
  }
  const probe = utf8('roundtable keystore self-check');
  if (!identityVerify(record.publicKey, probe, identitySign(record.secretKey, probe))) {
    throw new SignerError('IDENTITY_CORRUPT', `${label} is corrupt: its public and secret keys do not match`);
  }
  return { key, identity: { publicKey: record.publicKey, secretKey: record.secretKey } };
}

export const sharePathIn = (root: string, keyId: string) => join(root, SHARES_DIR, `${keyId.toLowerCase()}.json`);
export const inboxPathIn = (root: string, keyId: string) => join(root, INBOX_DIR, `${keyId.toLowerCase()}${SEALED_SUFFIX}`);

export const toKeyShare = (record: ShareRecord): KeyShare => ({
  keyId: record.keyId,
  suite: record.suite,
  identifier: record.identifier,
  signingShare: record.signingShare,
  publicPackage: record.publicPackage,
});

export function assertUuid(keyId: string): void {
  // The key id becomes a file name: anything but a UUID could escape the keystore's directories.
  if (!UUID.test(keyId)) throw new SignerError('SHARE_INVALID', `key id ${JSON.stringify(keyId)} is not a UUID`);
}

export function checkShare(share: KeyShare, what: string): void {
  const pkg = share.publicPackage;
  try {
    if (share.suite !== pkg.suite) throw new Error(`suite ${share.suite} differs from the package's ${pkg.suite}`);
    assertValidPublicPackage(pkg);
    if (!(share.identifier in pkg.verifyingShares)) {
      throw new Error(`identifier ${share.identifier} is not a participant of the key`);
    }
    assertShareMatchesPublic(pkg, share.identifier, share.signingShare);
  } catch (e) {
    throw new SignerError('SHARE_INVALID', `${what} is invalid: ${(e as Error).message}`, { cause: e });
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new SignerError('KEYSTORE_CORRUPT', `${what} is unreadable: ${(e as Error).message}`, { cause: e });
  }
}

/** Reads, decrypts (under the keystore key, for `purpose`) and checks the record of the sealed file at `path`. */
export async function readSealedRecord<S extends z.ZodType>(
  key: PassphraseKey,
  path: string,
  purpose: string,
  schema: S,
  code: Extract<SignerErrorCode, 'IDENTITY_CORRUPT' | 'SHARE_CORRUPT'>,
  what: string,
): Promise<z.infer<S>> {
  const label = `${what} (${path})`;
  const file = readFileHeader(await readText(path, label), label);
  return parseRecord(openFile(file, key, { purpose, what: label, firstUnlock: false }), schema, code, label);
}

/** Checks a decrypted record's shape: an authentic file with a bad record was written by a buggy or other version. */
export function parseRecord<S extends z.ZodType>(
  json: unknown,
  schema: S,
  code: Extract<SignerErrorCode, 'IDENTITY_CORRUPT' | 'SHARE_CORRUPT'>,
  what: string,
): z.infer<S> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'record';
    throw new SignerError(code, `${what} is corrupt: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
