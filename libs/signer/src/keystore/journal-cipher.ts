import { z } from 'zod';
import { bytesToHex, hexToBytes, utf8 } from '#crypto';
import { hexBytes } from '#protocol';
import { SignerError } from '../signer-error.js';
import type { JournalCipher, OpenedJournalLine } from '../nonces/nonce-journal.js';
import { KdfHeader, XCHACHA_NONCE_BYTES, canonicalKdf, randomAeadNonce, type PassphraseKey } from './passphrase-key.js';

const JOURNAL_FORMAT = 'roundtable-nonce-journal';
const JOURNAL_VERSION = 2 as const;

/** First line of an encrypted nonce journal: names the key (KDF parameters and key check). */
const JournalHeader = z.strictObject({
  format: z.literal(JOURNAL_FORMAT),
  version: z.literal(JOURNAL_VERSION),
  purpose: z.literal('journal'),
  kdf: KdfHeader,
  keyCheck: hexBytes(16),
  cipher: z.literal('xchacha20poly1305'),
});

/** Every later line: one record, encrypted under its own random nonce. */
const JournalLine = z.strictObject({ nonce: hexBytes(XCHACHA_NONCE_BYTES), ciphertext: z.base64().min(1) });

/**
 * Encrypts nonce-journal records with the keystore key. The associated data of record `i` binds the
 * journal's header line and `i`, so records cannot be moved between journals, reordered, or dropped
 * from the middle unnoticed (only the tail can be cut, which a torn write also does).
 */
export class KeystoreJournalCipher implements JournalCipher {
  constructor(private readonly key: PassphraseKey) {}

  newHeader(): string {
    return JSON.stringify({
      format: JOURNAL_FORMAT,
      version: JOURNAL_VERSION,
      purpose: 'journal',
      kdf: canonicalKdf(this.key.kdf),
      keyCheck: this.key.keyCheck,
      cipher: 'xchacha20poly1305',
    });
  }

  checkHeader(line: string, path: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new SignerError('JOURNAL_CORRUPT', `nonce journal ${path} has no valid header line (not an encrypted journal, or damaged)`);
    }
    const parsed = JournalHeader.safeParse(json);
    if (!parsed.success) {
      throw new SignerError('JOURNAL_CORRUPT', `nonce journal ${path} has an invalid header: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    if (!this.key.derivedWith(parsed.data.kdf) || !this.key.matchesCheck(parsed.data.keyCheck)) {
      throw new SignerError('KEYSTORE_TAMPERED', `nonce journal ${path} was not written with this keystore's key`);
    }
  }

  seal(header: string, index: number, plaintext: string): string {
    const nonce = randomAeadNonce();
    const ciphertext = this.key.seal(nonce, utf8(plaintext), associatedData(header, index));
    return JSON.stringify({ nonce: bytesToHex(nonce), ciphertext: Buffer.from(ciphertext).toString('base64') });
  }

  open(header: string, index: number, line: string): OpenedJournalLine {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return { kind: 'malformed' };
    }
    const parsed = JournalLine.safeParse(json);
    if (!parsed.success) return { kind: 'malformed' };
    const plaintext = this.key.open(
      hexToBytes(parsed.data.nonce),
      Buffer.from(parsed.data.ciphertext, 'base64'),
      associatedData(header, index),
    );
    if (!plaintext) return { kind: 'unauthentic' };
    return { kind: 'ok', plaintext: new TextDecoder().decode(plaintext) };
  }
}

const associatedData = (header: string, index: number): Uint8Array =>
  utf8(`${JOURNAL_FORMAT}/v${JOURNAL_VERSION}\n${header}\n${index}`);
