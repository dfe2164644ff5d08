import { z } from 'zod';
import { bytesToHex, hexToBytes, utf8 } from '#crypto';
import { hexBytes } from '#protocol';
import { SignerError } from '../signer-error.js';
import { KdfHeader, XCHACHA_NONCE_BYTES, canonicalKdf, randomAeadNonce, type PassphraseKey } from './passphrase-key.js';

export const ENCRYPTED_FILE_FORMAT = 'roundtable-keystore';
export const ENCRYPTED_FILE_VERSION = 2 as const;

/**
 * An encrypted keystore file (identity, share, share export): one JSON object, the header fields
 * plus `ciphertext`. Every header field is bound into the AEAD as associated data, so none can be
 * changed without the file failing to open. `purpose` says what the file is ("identity",
 * "share:<keyId>", "share-export:<keyId>"), so that one file cannot be passed off as another.
 * `publicKey` is set on the identity file only: the dealer reads it without the passphrase.
 */
const FileHeader = z.strictObject({
  format: z.literal(ENCRYPTED_FILE_FORMAT),
  version: z.literal(ENCRYPTED_FILE_VERSION),
  purpose: z.string().min(1).max(100),
  publicKey: hexBytes(32).optional(),
  kdf: KdfHeader,
  keyCheck: hexBytes(16),
  cipher: z.literal('xchacha20poly1305'),
  nonce: hexBytes(XCHACHA_NONCE_BYTES),
});
export type EncryptedFileHeader = z.infer<typeof FileHeader>;
const EncryptedFile = z.strictObject({ ...FileHeader.shape, ciphertext: z.base64().min(1) });

/** The associated data: the header in a fixed field order, so parsing and re-serializing cannot change it. */
function associatedData(h: EncryptedFileHeader): Uint8Array {
  const canonical = {
    format: h.format,
    version: h.version,
    purpose: h.purpose,
    ...(h.publicKey !== undefined ? { publicKey: h.publicKey } : {}),
    kdf: canonicalKdf(h.kdf),
    keyCheck: h.keyCheck,
    cipher: h.cipher,
    nonce: h.nonce,
  };
  return utf8(`${ENCRYPTED_FILE_FORMAT}/v${ENCRYPTED_FILE_VERSION}\n${JSON.stringify(canonical)}`);
}

/** Encrypts `payload` (JSON) for `purpose`; returns the file's text. */
export function sealFile(key: PassphraseKey, purpose: string, payload: object, publicKey?: string): string {
  const header = {
    format: ENCRYPTED_FILE_FORMAT,
    version: ENCRYPTED_FILE_VERSION,
    purpose,
    ...(publicKey !== undefined ? { publicKey } : {}),
    kdf: key.kdf,
    keyCheck: key.keyCheck,
    cipher: 'xchacha20poly1305',
    nonce: bytesToHex(randomAeadNonce()),
  } satisfies EncryptedFileHeader;
  const ciphertext = key.seal(hexToBytes(header.nonce), utf8(JSON.stringify(payload)), associatedData(header));
  return `${JSON.stringify({ ...header, ciphertext: Buffer.from(ciphertext).toString('base64') })}\n`;
}

/** Parses a file's header without decrypting it (KEYSTORE_CORRUPT when it is not an encrypted keystore file). */
export function readFileHeader(text: string, what: string): EncryptedFileHeader & { ciphertext: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SignerError('KEYSTORE_CORRUPT', `${what} is corrupt or truncated: not valid JSON`);
  }
  if (typeof json === 'object' && json !== null && (json as { format?: unknown }).format === undefined && 'secretKey' in json) {
    throw new SignerError('KEYSTORE_CORRUPT', `${what} is an unencrypted (version 1) record; re-create the keystore with \`signer init\``);
  }
  const parsed = EncryptedFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'header';
    throw new SignerError('KEYSTORE_CORRUPT', `${what} is corrupt: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Decrypts a file read with `readFileHeader`. `firstUnlock` says that `key` was derived from this
 * very header just now: then a key-check mismatch means a wrong passphrase. Otherwise the key was
 * already proven on another file of the same keystore, and any mismatch is tampering.
 */
export function openFile(
  file: EncryptedFileHeader & { ciphertext: string },
  key: PassphraseKey,
  options: { purpose: string; what: string; firstUnlock: boolean },
): unknown {
  const { what } = options;
  if (file.purpose !== options.purpose) {
    throw new SignerError('KEYSTORE_TAMPERED', `${what} is a ${JSON.stringify(file.purpose)} file, not ${JSON.stringify(options.purpose)}`);
  }
  if (!key.derivedWith(file.kdf)) {
    throw new SignerError('KEYSTORE_TAMPERED', `${what} was not encrypted with this keystore's key (its KDF parameters differ)`);
  }
  if (!key.matchesCheck(file.keyCheck)) {
    if (options.firstUnlock) throw new SignerError('WRONG_PASSPHRASE', `wrong passphrase for ${what}`);
    throw new SignerError('KEYSTORE_TAMPERED', `${what} was not encrypted with this keystore's key (its key check differs)`);
  }
  const plaintext = key.open(hexToBytes(file.nonce), Buffer.from(file.ciphertext, 'base64'), associatedData(file));
  if (!plaintext) {
    throw new SignerError('KEYSTORE_TAMPERED', `${what} fails authentication: it was altered or truncated`);
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new SignerError('KEYSTORE_CORRUPT', `${what} decrypts to something other than JSON`);
  }
}
