import { chmod, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import {
  assertShareMatchesPublic,
  assertValidPublicPackage,
  generateIdentity,
  identitySign,
  identityVerify,
  utf8,
  type IdentityKeyPair,
} from '#crypto';
import { SignerError, type SignerErrorCode } from '../signer-error.js';
import { SECRET_DIR_MODE, fsyncDirectory, isTempFile, writeFileAtomic } from './atomic-file.js';
import { IdentityRecord, KEYSTORE_FORMAT_VERSION, ShareRecord, type KeyShare } from './keystore-records.js';

const IDENTITY_FILE = 'identity.json';
const SHARES_DIR = 'shares';
const NONCE_JOURNAL_FILE = 'nonces.jsonl';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const initHint = (dir: string) => `run \`signer init --keystore ${dir}\` first`;

/**
 * A signer node's keystore directory:
 *
 * ```
 * <dir>/            mode 0700
 *   identity.json   the node's Ed25519 identity {version, publicKey, secretKey}
 *   shares/<keyId>.json  one secret share per key, with the key's public package
 *   nonces.jsonl    the nonce journal (ids only, never nonce secrets; see NonceJournal)
 * ```
 *
 * Every secret-bearing file is read and written through `readRecord`/`writeRecord` only, so that
 * passphrase encryption can be added there without touching any caller. The identity secret stays
 * inside this class: callers ask it to sign.
 */
export class Keystore {
  private constructor(
    /** Absolute path of the keystore directory. */
    readonly dir: string,
    private readonly identity: IdentityKeyPair,
  ) {}

  /**
   * Creates the keystore directory (mode 0700) and a fresh identity. Refuses to replace an existing
   * identity unless `force` is set: the old one may be enrolled, and its shares are bound to it.
   */
  static async init(dir: string, options: { force?: boolean } = {}): Promise<Keystore> {
    const root = resolve(dir);
    await mkdir(join(root, SHARES_DIR), { recursive: true, mode: SECRET_DIR_MODE });
    // mkdir leaves the mode of an existing directory alone.
    await chmod(root, SECRET_DIR_MODE);
    await chmod(join(root, SHARES_DIR), SECRET_DIR_MODE);
    if (!options.force && (await exists(join(root, IDENTITY_FILE)))) {
      throw new SignerError(
        'IDENTITY_EXISTS',
        `keystore ${root} already has an identity; pass --force to replace it (the old identity and its enrollment are lost)`,
      );
    }
    const identity = generateIdentity();
    const record: IdentityRecord = { version: KEYSTORE_FORMAT_VERSION, ...identity };
    await writeRecord(join(root, IDENTITY_FILE), record);
    await fsyncDirectory(root);
    return new Keystore(root, identity);
  }

  /** Opens an initialized keystore; fails with a message telling the operator what to do. */
  static async open(dir: string): Promise<Keystore> {
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
    if (!info.isDirectory()) {
      throw new SignerError('KEYSTORE_MISSING', `keystore ${root} is not a directory`);
    }
    const identityPath = join(root, IDENTITY_FILE);
    if (!(await exists(identityPath))) {
      throw new SignerError('KEYSTORE_NOT_INITIALIZED', `keystore ${root} has no identity; ${initHint(dir)}`);
    }
    const record = await readRecord(identityPath, IdentityRecord, 'IDENTITY_CORRUPT', 'identity');
    const identity = { publicKey: record.publicKey, secretKey: record.secretKey };
    // A secret key that does not belong to the public key would fail every authentication obscurely.
    const probe = utf8('roundtable/v1/keystore-self-check');
    if (!identityVerify(identity.publicKey, probe, identitySign(identity.secretKey, probe))) {
      throw new SignerError('IDENTITY_CORRUPT', `identity in ${identityPath} is corrupt: its keys do not match`);
    }
    return new Keystore(root, identity);
  }

  /** The node's Ed25519 identity public key (hex): what an admin enrolls. */
  get publicKey(): string {
    return this.identity.publicKey;
  }

  /** Signs with the identity key (used for the authentication transcript only). */
  signWithIdentity(message: Uint8Array): string {
    return identitySign(this.identity.secretKey, message);
  }

  get nonceJournalPath(): string {
    return join(this.dir, NONCE_JOURNAL_FILE);
  }

  /** Stores a share after checking it against its public package; never overwrites an existing share. */
  async writeShare(share: KeyShare): Promise<void> {
    assertUuid(share.keyId);
    checkShare(share, `share for key ${share.keyId}`);
    const path = this.sharePath(share.keyId);
    if (await exists(path)) {
      throw new SignerError('SHARE_EXISTS', `keystore ${this.dir} already holds a share of key ${share.keyId}`);
    }
    await mkdir(join(this.dir, SHARES_DIR), { recursive: true, mode: SECRET_DIR_MODE });
    const record: ShareRecord = { version: KEYSTORE_FORMAT_VERSION, ...share };
    await writeRecord(path, record);
  }

  /**
   * Deletes a share. Only for rolling back a dealing that the coordinator refused: a share of a
   * registered key must never be deleted by software.
   */
  async removeShare(keyId: string): Promise<void> {
    assertUuid(keyId);
    await rm(this.sharePath(keyId), { force: true });
    await fsyncDirectory(join(this.dir, SHARES_DIR));
  }

  /** The share of `keyId`, checked against its public package; null when this node holds none. */
  async findShare(keyId: string): Promise<KeyShare | null> {
    if (!UUID.test(keyId)) return null;
    const path = this.sharePath(keyId);
    if (!(await exists(path))) return null;
    const record = await readRecord(path, ShareRecord, 'SHARE_CORRUPT', `share of key ${keyId}`);
    if (record.keyId.toLowerCase() !== keyId.toLowerCase()) {
      throw new SignerError('SHARE_CORRUPT', `${path} holds the share of key ${record.keyId}, not ${keyId}`);
    }
    const share: KeyShare = {
      keyId: record.keyId,
      suite: record.suite,
      identifier: record.identifier,
      signingShare: record.signingShare,
      publicPackage: record.publicPackage,
    };
    checkShare(share, path);
    return share;
  }

  async readShare(keyId: string): Promise<KeyShare> {
    const share = await this.findShare(keyId);
    if (!share) throw new SignerError('SHARE_MISSING', `keystore ${this.dir} holds no share of key ${keyId}`);
    return share;
  }

  /** Every share in the keystore, each checked; the first bad one fails the whole listing. */
  async listShares(): Promise<KeyShare[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, SHARES_DIR));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const keyIds = names
      .filter((n) => !isTempFile(n) && n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((id) => UUID.test(id))
      .sort();
    const shares: KeyShare[] = [];
    for (const keyId of keyIds) shares.push(await this.readShare(keyId));
    return shares;
  }

  private sharePath(keyId: string): string {
    return join(this.dir, SHARES_DIR, `${keyId.toLowerCase()}.json`);
  }
}

function assertUuid(keyId: string): void {
  // The key id becomes a file name: anything but a UUID could escape the shares directory.
  if (!UUID.test(keyId)) throw new SignerError('SHARE_INVALID', `key id ${JSON.stringify(keyId)} is not a UUID`);
}

function checkShare(share: KeyShare, what: string): void {
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

// The two functions below are the only place keystore records touch the disk: encryption at rest
// (a later issue) wraps them.

async function writeRecord(path: string, record: object): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
}

async function readRecord<S extends z.ZodType>(
  path: string,
  schema: S,
  code: Extract<SignerErrorCode, 'IDENTITY_CORRUPT' | 'SHARE_CORRUPT'>,
  what: string,
): Promise<z.infer<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SignerError(code, `${what} (${path}) is unreadable: ${(e as Error).message}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SignerError(code, `${what} (${path}) is corrupt: not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'record';
    throw new SignerError(code, `${what} (${path}) is corrupt: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
