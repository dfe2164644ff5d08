import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateIdentity, identitySign, isValidIdentityKey, type IdentityKeyPair } from '#crypto';
import { signDecision } from '#intent';
import type { SignedDecision, UnsignedDecision } from '#protocol';
import type { JournalLocation } from '../nonces/nonce-journal.js';
import { SignerError, isSignerError } from '../signer-error.js';
import { SECRET_DIR_MODE, fsyncDirectory, isTempFile, writeFileAtomic } from './atomic-file.js';
import { readFileHeader, sealFile } from './encrypted-file.js';
import { KeystoreJournalCipher } from './journal-cipher.js';
import { KEYSTORE_FORMAT_VERSION, ShareRecord, type IdentityRecord, type KeyShare, type PendingCeremony } from './keystore-records.js';
import { KDF_COSTS, PassphraseKey, type KdfCost } from './passphrase-key.js';
import { PendingMarks } from './pending-marks.js';
import { RecordFiles } from './record-files.js';
import {
  APPROVALS_DIR,
  GRANTS_DIR,
  WITNESS_DIR,
  IDENTITY_FILE,
  INBOX_DIR,
  NONCE_JOURNAL_FILE,
  REJECTED_SUFFIX,
  SEALED_SUFFIX,
  SHARES_DIR,
  UUID,
  assertUuid,
  checkShare,
  existingKeystore,
  exists,
  inboxPathIn,
  listNames,
  readSealedRecord,
  readText,
  sharePathIn,
  sharePurpose,
  toKeyShare,
  unlock,
} from './keystore-files.js';
import { openBetweenIdentities, openSealedShare, sealBetweenIdentities, type SealedBox } from './sealed-share.js';
import { openShareExport, sealShareExport, type ImportedShare } from './share-export.js';
import * as inbox from './share-inbox.js';

export type { ImportedShare } from './share-export.js';

export interface KeystoreInitOptions {
  passphrase: string;
  /** Replace an existing identity (its enrollment is lost; its shares and journal are kept). */
  force?: boolean;
  /** scrypt cost; the default is strong. Lower only in tests and demos. */
  kdfCost?: KdfCost;
}

/** What importing the inbox did: key ids imported, and one error per sealed share refused. */
export interface InboxImport {
  imported: string[];
  rejected: SignerError[];
}

/**
 * A signer node's keystore directory, encrypted at rest under a key derived from the operator's
 * passphrase (see PassphraseKey, encrypted-file.ts):
 *
 * ```
 * <dir>/                      mode 0700
 *   identity.json             the node's Ed25519 identity; its public key also in the clear header
 *   shares/<keyId>.json       one encrypted share per key, with the key's public package
 *   inbox/<keyId>.sealed.json a share the dealer sealed to this node's identity, imported at start
 *                             or when a proposal names the key (a refused one is renamed .rejected)
 *   nonces.jsonl              the nonce journal, one encrypted record per line (see NonceJournal)
 *   pending/<keyId>.pending   marker: the share of keyId comes from a key generation ceremony the node has
 *                             not seen confirmed; the node does not sign with it. Holds the ceremony (id,
 *                             participants), encrypted; empty when written by an older version
 *   approvals/<requestId>.json a proposal awaiting (or decided by) the operator, encrypted (see ApprovalQueue)
 *   approvals.sock            the operator's approvals channel while the node runs (mode 0600)
 *   grants/<grantId>.json     a session-key grant, its decision, revocation and counters, encrypted (see GrantStore)
 * ```
 *
 * Every file is read and written through this class only, which composes one file per job:
 * keystore-files.ts (the layout and the checked reads), pending-marks.ts, share-inbox.ts (what a
 * dealer drops in) and share-export.ts (backups). The key is derived once, when the keystore is
 * opened; the passphrase is not kept. The identity secret stays inside: callers ask it to sign.
 * Every check runs before anything is written, so a failure leaves the disk as it was.
 */
export class Keystore {
  private readonly pending: PendingMarks;

  private constructor(
    /** Absolute path of the keystore directory. */
    readonly dir: string,
    private readonly identity: IdentityKeyPair,
    private readonly key: PassphraseKey,
  ) {
    this.pending = new PendingMarks(dir, key);
  }

  /**
   * Creates the keystore directory (mode 0700) and a fresh identity. Refuses to replace an existing
   * identity unless `force` is set: the old one may be enrolled, and its shares are bound to it.
   * With `force`, the passphrase must be the keystore's current one, so its shares stay readable.
   */
  static async init(dir: string, options: KeystoreInitOptions): Promise<Keystore> {
    const root = resolve(dir);
    if (!options.passphrase) throw new SignerError('PASSPHRASE_MISSING', 'a passphrase is required to create a keystore');
    const identityPath = join(root, IDENTITY_FILE);
    const existing = await exists(identityPath);
    if (existing && !options.force) {
      throw new SignerError(
        'IDENTITY_EXISTS',
        `keystore ${root} already has an identity; pass --force to replace it (the old identity and its enrollment are lost)`,
      );
    }
    const key = existing
      ? (await unlock(root, options.passphrase)).key
      : await PassphraseKey.create(options.passphrase, options.kdfCost ?? KDF_COSTS.default);
    await mkdir(join(root, SHARES_DIR), { recursive: true, mode: SECRET_DIR_MODE });
    await mkdir(join(root, INBOX_DIR), { recursive: true, mode: SECRET_DIR_MODE });
    // mkdir leaves the mode of an existing directory alone.
    for (const d of [root, join(root, SHARES_DIR), join(root, INBOX_DIR)]) await chmod(d, SECRET_DIR_MODE);
    const identity = generateIdentity();
    const record: IdentityRecord = { version: KEYSTORE_FORMAT_VERSION, ...identity };
    await writeFileAtomic(identityPath, sealFile(key, 'identity', record, identity.publicKey));
    return new Keystore(root, identity, key);
  }

  /** Opens an initialized keystore with its passphrase; fails with a message telling the operator what to do. */
  static async open(dir: string, options: { passphrase: string }): Promise<Keystore> {
    const root = await existingKeystore(dir);
    const { key, identity } = await unlock(root, options.passphrase);
    return new Keystore(root, identity, key);
  }

  /** The identity public key, read from the identity file's clear header: needs no passphrase (the dealer's view). */
  static async readPublicKey(dir: string): Promise<string> {
    const root = await existingKeystore(dir);
    const path = join(root, IDENTITY_FILE);
    const header = readFileHeader(await readText(path, 'identity'), `identity (${path})`);
    if (header.purpose !== 'identity' || header.publicKey === undefined || !isValidIdentityKey(header.publicKey)) {
      throw new SignerError('KEYSTORE_CORRUPT', `identity (${path}) has no valid public key in its header`);
    }
    return header.publicKey;
  }

  /** True when the keystore holds a share of `keyId` or has one waiting in its inbox (no passphrase needed). */
  static holdsKey(dir: string, keyId: string): Promise<boolean> {
    return inbox.holdsKey(dir, keyId);
  }

  /** Drops a share sealed to this keystore's identity (see sealShareToIdentity) into its inbox. */
  static deliverSealedShare(dir: string, keyId: string, sealed: string): Promise<void> {
    return inbox.deliverSealedShare(dir, keyId, sealed);
  }

  /** Removes a sealed share not yet imported (a dealing the coordinator refused). */
  static withdrawSealedShare(dir: string, keyId: string): Promise<void> {
    return inbox.withdrawSealedShare(dir, keyId);
  }

  /** The node's Ed25519 identity public key (hex): what an admin enrolls. */
  get publicKey(): string {
    return this.identity.publicKey;
  }

  /** Signs with the identity key (the authentication transcript and the ceremony transcripts). */
  signWithIdentity(message: Uint8Array): string {
    return identitySign(this.identity.secretKey, message);
  }

  /** Signs a decision on an intent with the identity key (see libs/intent `decisionTranscript`). */
  signDecision(decision: UnsignedDecision): SignedDecision {
    return signDecision(this.identity.secretKey, decision);
  }

  /** The approvals queue's records (approvals/), sealed under the keystore key. */
  get approvalRecords(): RecordFiles {
    return new RecordFiles(join(this.dir, APPROVALS_DIR), 'approval', this.key);
  }

  /** The session-key grants proposed to this node, with their decisions, revocations and counters (grants/), sealed. */
  get grantRecords(): RecordFiles {
    return new RecordFiles(join(this.dir, GRANTS_DIR), 'grant', this.key);
  }

  /** What this node witnessed of the coordinator's audit log, per origin (witness/), sealed. */
  get witnessRecords(): RecordFiles {
    return new RecordFiles(join(this.dir, WITNESS_DIR), 'witness', this.key);
  }

  /** Seals bytes from this node's identity to another node's (see sealBetweenIdentities). */
  sealToPeer(plaintext: Uint8Array, recipientPublicKey: string, associatedData: Uint8Array, info: Uint8Array): SealedBox {
    return sealBetweenIdentities(plaintext, this.identity, recipientPublicKey, associatedData, info);
  }

  /** Opens bytes another node sealed to this one; throws when they fail authentication. */
  openFromPeer(box: SealedBox, senderPublicKey: string, associatedData: Uint8Array, info: Uint8Array): Uint8Array {
    return openBetweenIdentities(box, this.identity, senderPublicKey, associatedData, info);
  }

  /** The nonce journal's path and the cipher for its records (the keystore key). */
  get nonceJournal(): JournalLocation {
    return { path: join(this.dir, NONCE_JOURNAL_FILE), cipher: new KeystoreJournalCipher(this.key) };
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
    const record: ShareRecord = { version: KEYSTORE_FORMAT_VERSION, ...share, keyId: share.keyId.toLowerCase() };
    await writeFileAtomic(path, sealFile(this.key, sharePurpose(share.keyId), record));
  }

  /** Marks `keyId` as unconfirmed (written before a ceremony's share is stored), recording the ceremony. */
  markPending(keyId: string, ceremony?: PendingCeremony): Promise<void> {
    return this.pending.mark(keyId, ceremony);
  }

  /** The ceremony the pending mark of `keyId` records; null without a mark or for an empty one (an older version's). */
  readPendingCeremony(keyId: string): Promise<PendingCeremony | null> {
    return this.pending.ceremony(keyId);
  }

  /** Removes the unconfirmed mark of `keyId`. */
  clearPending(keyId: string): Promise<void> {
    return this.pending.clear(keyId);
  }

  /** Key ids marked unconfirmed (a ceremony that never closed, e.g. the node stopped in between). */
  listPending(): Promise<string[]> {
    return this.pending.list();
  }

  /** Deletes the share of `keyId` (a key whose ceremony failed after the share was stored). True if one was there. */
  async removeShare(keyId: string): Promise<boolean> {
    assertUuid(keyId);
    const path = this.sharePath(keyId);
    if (!(await exists(path))) return false;
    await rm(path, { force: true });
    await fsyncDirectory(join(this.dir, SHARES_DIR));
    return true;
  }

  /**
   * The share of `keyId`, checked against its public package; null when this node holds none. A
   * share waiting in the inbox is imported first (a proposal may name a key dealt since the start).
   */
  async findShare(keyId: string): Promise<KeyShare | null> {
    if (!UUID.test(keyId)) return null;
    const path = this.sharePath(keyId);
    if (!(await exists(path))) {
      if (!(await exists(inboxPathIn(this.dir, keyId)))) return null;
      await this.importSealed(keyId);
    }
    const record = await this.readShareRecord(keyId);
    if (record.keyId.toLowerCase() !== keyId.toLowerCase()) {
      throw new SignerError('SHARE_CORRUPT', `${path} holds the share of key ${record.keyId}, not ${keyId}`);
    }
    const share = toKeyShare(record);
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
    const keyIds = (await listNames(join(this.dir, SHARES_DIR)))
      .filter((n) => !isTempFile(n) && n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter((id) => UUID.test(id))
      .sort();
    const shares: KeyShare[] = [];
    for (const keyId of keyIds) shares.push(await this.readShare(keyId));
    return shares;
  }

  /**
   * Imports every sealed share waiting in the inbox. One that cannot be opened, or whose share does
   * not match its public package, is renamed `.rejected` and reported; the others are imported.
   */
  async importInbox(): Promise<InboxImport> {
    const keyIds = await inbox.inboxKeyIds(this.dir);
    const result: InboxImport = { imported: [], rejected: [] };
    for (const keyId of keyIds) {
      try {
        await this.importSealed(keyId);
        result.imported.push(keyId);
      } catch (e) {
        if (!isSignerError(e) || e.code !== 'SEALED_SHARE_REJECTED') throw e;
        result.rejected.push(e);
      }
    }
    return result;
  }

  /** The share of `keyId` encrypted under a separate export passphrase, for backup (the file's text). */
  async exportShare(keyId: string, exportPassphrase: string, kdfCost: KdfCost = KDF_COSTS.default): Promise<string> {
    const share = await this.readShare(keyId);
    return sealShareExport(share, this.key, this.identity.publicKey, exportPassphrase, kdfCost);
  }

  /**
   * Imports a share exported by `exportShare`; refuses one this keystore already holds, and one
   * exported by another identity than this keystore's (SHARE_IDENTITY_MISMATCH, naming both keys)
   * unless `force` is set: a deliberate move of the share to a new identity.
   */
  async importShare(text: string, exportPassphrase: string, options: { force?: boolean } = {}): Promise<ImportedShare> {
    const imported = await openShareExport(text, exportPassphrase, this.identity.publicKey, options.force);
    await this.writeShare(imported.share);
    return imported;
  }

  /** Opens the inbox's sealed share of `keyId`, checks it, stores it encrypted, then deletes the inbox file. */
  private async importSealed(keyId: string): Promise<void> {
    const inboxPath = inboxPathIn(this.dir, keyId);
    const what = `sealed share ${inboxPath}`;
    try {
      assertUuid(keyId);
      const share = openSealedShare(await readText(inboxPath, what), this.identity, keyId, what);
      checkShare(share, what);
      if (await exists(this.sharePath(keyId))) {
        // A crash between storing the share and deleting the inbox file leaves both: that is no conflict.
        const held = await this.readShareRecord(keyId);
        if (held.signingShare !== share.signingShare || held.identifier !== share.identifier) {
          throw new Error(`this keystore already holds another share of key ${keyId}`);
        }
      } else {
        await this.writeShare(share);
      }
    } catch (e) {
      // Kept for the operator to inspect, under a name that is never imported again.
      await rename(inboxPath, `${inboxPath}${REJECTED_SUFFIX}`).catch(() => undefined);
      await fsyncDirectory(join(this.dir, INBOX_DIR));
      const reason = isSignerError(e) ? e.message : `${what} is refused: ${(e as Error).message}`;
      throw new SignerError('SEALED_SHARE_REJECTED', `${reason} (renamed ${SEALED_SUFFIX}${REJECTED_SUFFIX})`, { cause: e });
    }
    await rm(inboxPath, { force: true });
    await fsyncDirectory(join(this.dir, INBOX_DIR));
  }

  private sharePath(keyId: string): string {
    return sharePathIn(this.dir, keyId);
  }

  /** The share record stored for `keyId`, decrypted and checked for shape (not yet against its package). */
  private readShareRecord(keyId: string): Promise<ShareRecord> {
    return readSealedRecord(this.key, this.sharePath(keyId), sharePurpose(keyId), ShareRecord, 'SHARE_CORRUPT', `share of key ${keyId}`);
  }
}
