import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SignerError } from '../signer-error.js';
import { SECRET_DIR_MODE, fsyncDirectory, writeFileAtomic } from './atomic-file.js';
import { sealFile } from './encrypted-file.js';
import { PENDING_DIR, PENDING_SUFFIX, UUID, assertUuid, exists, listNames, pendingPurpose, readSealedRecord, readText } from './keystore-files.js';
import { KEYSTORE_FORMAT_VERSION, PendingRecord, type PendingCeremony } from './keystore-records.js';
import type { PassphraseKey } from './passphrase-key.js';

/**
 * The keystore's pending marks (`pending/<keyId>.pending`): a share that comes from a key generation
 * ceremony the node has not seen confirmed, with the ceremony it comes from (sealed under the
 * keystore key). The node does not sign with a marked share. Keystore exposes these as its methods.
 */
export class PendingMarks {
  constructor(
    /** Absolute path of the keystore directory. */
    private readonly root: string,
    private readonly key: PassphraseKey,
  ) {}

  /** Marks `keyId` as unconfirmed (written before a ceremony's share is stored), recording the ceremony. */
  async mark(keyId: string, ceremony?: PendingCeremony): Promise<void> {
    assertUuid(keyId);
    await mkdir(join(this.root, PENDING_DIR), { recursive: true, mode: SECRET_DIR_MODE });
    // The directory's own entry must be durable too (an earlier process may have made it and crashed
    // unsynced), or a crash could keep the share the caller writes next and lose its mark.
    await fsyncDirectory(this.root);
    const record: PendingRecord | undefined = ceremony && { version: KEYSTORE_FORMAT_VERSION, keyId: keyId.toLowerCase(), ...ceremony };
    await writeFileAtomic(this.path(keyId), record ? sealFile(this.key, pendingPurpose(keyId), record) : '');
  }

  /** The ceremony the mark of `keyId` records; null without a mark or for an empty one (an older version's). */
  async ceremony(keyId: string): Promise<PendingCeremony | null> {
    assertUuid(keyId);
    const path = this.path(keyId);
    if (!(await exists(path)) || (await readText(path, `pending mark ${path}`)).trim() === '') return null;
    const record = await readSealedRecord(this.key, path, pendingPurpose(keyId), PendingRecord, 'SHARE_CORRUPT', `pending mark of key ${keyId}`);
    if (record.keyId !== keyId.toLowerCase()) throw new SignerError('SHARE_CORRUPT', `${path} is the pending mark of key ${record.keyId}, not ${keyId}`);
    return { ceremonyId: record.ceremonyId, participants: record.participants };
  }

  /** Removes the mark of `keyId`. */
  async clear(keyId: string): Promise<void> {
    assertUuid(keyId);
    await rm(this.path(keyId), { force: true });
    await fsyncDirectory(join(this.root, PENDING_DIR)).catch(() => undefined);
  }

  /** Key ids marked (a ceremony that never closed, e.g. the node stopped in between), sorted. */
  async list(): Promise<string[]> {
    return (await listNames(join(this.root, PENDING_DIR)))
      .filter((n) => n.endsWith(PENDING_SUFFIX))
      .map((n) => n.slice(0, -PENDING_SUFFIX.length))
      .filter((id) => UUID.test(id))
      .sort();
  }

  private path(keyId: string): string {
    return join(this.root, PENDING_DIR, `${keyId.toLowerCase()}${PENDING_SUFFIX}`);
  }
}
