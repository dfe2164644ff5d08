import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { bytesToHex, equalBytes, hexToBytes, utf8 } from '#crypto';
import { hexBytes } from '#protocol';
import { SignerError } from '../signer-error.js';

/** scrypt cost presets. `test` is for tests and demos only: it makes a copied keystore cheap to brute-force. */
export const KDF_COSTS = {
  default: { N: 2 ** 17, r: 8, p: 1 },
  test: { N: 2 ** 10, r: 8, p: 1 },
} as const;
export type KdfCostName = keyof typeof KDF_COSTS;
export type KdfCost = { N: number; r: number; p: number };

/** Upper bound on what a file header may ask scrypt for, so a crafted header cannot exhaust memory. */
const MAX_KDF_MEMORY = 1024 ** 3;
const SALT_BYTES = 16;
const KEY_CHECK_BYTES = 16;
export const XCHACHA_NONCE_BYTES = 24;

/** A fresh AEAD nonce: 24 random bytes are safe to draw at random with XChaCha20 (no counter to keep). */
export const randomAeadNonce = (): Uint8Array => randomBytes(XCHACHA_NONCE_BYTES);

/** The KDF part of every encrypted file's header: enough to derive the key again from the passphrase. */
export const KdfHeader = z
  .strictObject({
    name: z.literal('scrypt'),
    N: z.number().int().min(2 ** 10).max(2 ** 20),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: hexBytes(SALT_BYTES),
  })
  .refine((k) => (k.N & (k.N - 1)) === 0, 'N must be a power of two')
  .refine((k) => 128 * k.N * k.r * k.p <= MAX_KDF_MEMORY, 'scrypt parameters need too much memory');
export type KdfHeader = z.infer<typeof KdfHeader>;

/** Canonical form of a KDF header (fixed key order), for associated data and comparisons. */
export const canonicalKdf = (k: KdfHeader): KdfHeader => ({ name: 'scrypt', N: k.N, r: k.r, p: k.p, salt: k.salt });

/**
 * A key derived from an operator's passphrase with scrypt. Derived once per process and kept; the
 * passphrase itself is not. Two subkeys come out of the scrypt output: one encrypts, the other is a
 * public key-check value stored in headers, so that a wrong passphrase is told apart from a damaged
 * file (an attacker gains nothing from it: the AEAD tag already lets a guess be tested offline).
 */
export class PassphraseKey {
  private constructor(
    readonly kdf: KdfHeader,
    private readonly encryptionKey: Uint8Array,
    /** Hex key-check value stored in every header written with this key. */
    readonly keyCheck: string,
  ) {}

  /** A key with a fresh random salt, for a new keystore or export file. */
  static create(passphrase: string, cost: KdfCost): Promise<PassphraseKey> {
    const kdf = KdfHeader.parse({ name: 'scrypt', ...cost, salt: bytesToHex(randomBytes(SALT_BYTES)) });
    return PassphraseKey.derive(passphrase, kdf);
  }

  /** Derives the key a file header names. */
  static async derive(passphrase: string, kdf: KdfHeader): Promise<PassphraseKey> {
    if (passphrase.length === 0) throw new SignerError('PASSPHRASE_MISSING', 'the passphrase is empty');
    // NFC: the same passphrase typed on another system (other Unicode normalization) derives the same key.
    const master = await scryptAsync(utf8(passphrase.normalize('NFC')), hexToBytes(kdf.salt), {
      N: kdf.N,
      r: kdf.r,
      p: kdf.p,
      dkLen: 32,
      maxmem: MAX_KDF_MEMORY + 1024 ** 2,
    });
    const encryptionKey = hkdf(sha256, master, undefined, utf8('roundtable keystore encryption v2'), 32);
    const keyCheck = hkdf(sha256, master, undefined, utf8('roundtable keystore key check v2'), KEY_CHECK_BYTES);
    master.fill(0);
    return new PassphraseKey(canonicalKdf(kdf), encryptionKey, bytesToHex(keyCheck));
  }

  /** True when a header was written with these KDF parameters (same salt and costs). */
  derivedWith(kdf: KdfHeader): boolean {
    const a = this.kdf;
    return a.N === kdf.N && a.r === kdf.r && a.p === kdf.p && a.salt === kdf.salt;
  }

  /** True when a header's key-check value is this key's. */
  matchesCheck(keyCheck: string): boolean {
    return keyCheck.length === this.keyCheck.length && equalBytes(hexToBytes(keyCheck), hexToBytes(this.keyCheck));
  }

  /** Encrypts; `nonce` must be fresh (see randomAeadNonce) and is usually part of `aad`. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    return xchacha20poly1305(this.encryptionKey, nonce, aad).encrypt(plaintext);
  }

  /** Decrypts; undefined when the tag does not verify (wrong key, or altered ciphertext or associated data). */
  open(nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
    try {
      return xchacha20poly1305(this.encryptionKey, nonce, aad).decrypt(ciphertext);
    } catch {
      return undefined;
    }
  }
}
