import { SignerError } from '../signer-error.js';
import { openFile, readFileHeader, sealFile } from './encrypted-file.js';
import { EXPORT_PURPOSE_PREFIX, parseRecord, toKeyShare } from './keystore-files.js';
import { KEYSTORE_FORMAT_VERSION, ShareExportRecord, type KeyShare } from './keystore-records.js';
import { KDF_COSTS, PassphraseKey, type KdfCost } from './passphrase-key.js';

/**
 * A share's backup file (`signer export-share` / `import-share`): the share sealed under a separate
 * export passphrase, with the identity that made it, so a backup neither falls with the keystore nor
 * lands silently in another identity's keystore. Keystore.exportShare and importShare use these; the
 * keystore itself stores what importShare returns.
 */

/** What importing a share backup did. */
export interface ImportedShare {
  share: KeyShare;
  /** The identity public key of the keystore that made the backup (null: an export older than that record). */
  exportedBy: string | null;
  /** True when the backup was made by another identity (or by an unrecorded one) and `force` imported it anyway. */
  forced: boolean;
}

/** The share sealed under `exportPassphrase` (which must not be the keystore's), as the backup file's text. */
export async function sealShareExport(
  share: KeyShare,
  keystoreKey: PassphraseKey,
  exportedBy: string,
  exportPassphrase: string,
  kdfCost: KdfCost = KDF_COSTS.default,
): Promise<string> {
  if (!exportPassphrase) throw new SignerError('PASSPHRASE_MISSING', 'an export passphrase is required');
  // Derived under the keystore's own salt, equal keys mean equal passphrases: a backup must not fall with the keystore.
  if ((await PassphraseKey.derive(exportPassphrase, keystoreKey.kdf)).keyCheck === keystoreKey.keyCheck) {
    throw new SignerError('INVALID_CONFIG', 'the export passphrase must differ from the keystore passphrase');
  }
  const exportKey = await PassphraseKey.create(exportPassphrase, kdfCost);
  const record: ShareExportRecord = { version: KEYSTORE_FORMAT_VERSION, ...share, exportedBy };
  return sealFile(exportKey, `${EXPORT_PURPOSE_PREFIX}${share.keyId}`, record);
}

/**
 * Opens a backup made by sealShareExport for the keystore of identity `publicKey`; refuses one
 * exported by another identity (SHARE_IDENTITY_MISMATCH, naming both keys) unless `force` is set:
 * a deliberate move of the share to a new identity. Writes nothing.
 */
export async function openShareExport(text: string, exportPassphrase: string, publicKey: string, force = false): Promise<ImportedShare> {
  const what = 'share export';
  const file = readFileHeader(text, what);
  if (!file.purpose.startsWith(EXPORT_PURPOSE_PREFIX)) {
    throw new SignerError('KEYSTORE_TAMPERED', `${what} is a ${JSON.stringify(file.purpose)} file, not a share export`);
  }
  const exportKey = await PassphraseKey.derive(exportPassphrase, file.kdf);
  const json = openFile(file, exportKey, { purpose: file.purpose, what, firstUnlock: true });
  const record = parseRecord(json, ShareExportRecord, 'SHARE_CORRUPT', what);
  if (`${EXPORT_PURPOSE_PREFIX}${record.keyId}` !== file.purpose) {
    throw new SignerError('KEYSTORE_TAMPERED', `${what} names key ${file.purpose} but holds the share of ${record.keyId}`);
  }
  const exportedBy = record.exportedBy ?? null;
  const foreign = exportedBy !== publicKey;
  if (foreign && !force) {
    const made =
      exportedBy === null
        ? 'records no identity (it was made before exports recorded one), so it cannot be checked against'
        : `was made by identity ${exportedBy}, not by`;
    throw new SignerError(
      'SHARE_IDENTITY_MISMATCH',
      `the backup of key ${record.keyId} ${made} this keystore's identity ${publicKey}; ` +
        'pass --force to import it anyway (a deliberate move to a new identity)',
    );
  }
  return { share: toKeyShare(record), exportedBy, forced: foreign };
}
