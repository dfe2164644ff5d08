import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from './encoding.js';

/** A node's long-term Ed25519 identity key pair, hex-encoded. */
export interface IdentityKeyPair {
  publicKey: string;
  secretKey: string;
}

export function generateIdentity(): IdentityKeyPair {
  const { secretKey, publicKey } = ed25519.keygen();
  return { publicKey: bytesToHex(publicKey), secretKey: bytesToHex(secretKey) };
}

export function identitySign(secretKeyHex: string, message: Uint8Array): string {
  return bytesToHex(ed25519.sign(message, hexToBytes(secretKeyHex)));
}

/** DER SubjectPublicKeyInfo prefix of a raw Ed25519 public key (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX_32 = /^[0-9a-f]{64}$/i;
const HEX_64 = /^[0-9a-f]{128}$/i;
/** Public keys already parsed, by hex: a coordinator verifies the same nodes' keys over and over. */
const parsedKeys = new Map<string, KeyObject>();
const MAX_PARSED_KEYS = 50_000;

function publicKeyObject(publicKeyHex: string): KeyObject {
  const cached = parsedKeys.get(publicKeyHex);
  if (cached) return cached;
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });
  if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear();
  parsedKeys.set(publicKeyHex, key);
  return key;
}

/**
 * Strict (RFC 8032) verification; false for any malformed input instead of throwing. Verified by
 * OpenSSL (node:crypto), about fifteen times faster than noble's Ed25519 here (0.11 against 1.6 ms):
 * the coordinator checks every node's authentication and every signed decision on its hot path. Keys
 * are signed with noble (identitySign), so signing and checking are two implementations.
 */
export function identityVerify(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  if (!HEX_32.test(publicKeyHex) || !HEX_64.test(signatureHex)) return false;
  try {
    return verify(null, message, publicKeyObject(publicKeyHex.toLowerCase()), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/**
 * True when the hex string is a canonical Ed25519 public key of prime order. Small-order keys (the
 * all-zero encoding is one) are refused: signatures "by" them can be forged without any secret.
 */
export function isValidIdentityKey(publicKeyHex: string): boolean {
  try {
    const p = ed25519.Point.fromHex(publicKeyHex);
    return !p.is0() && !p.isSmallOrder() && p.isTorsionFree() && p.toHex() === publicKeyHex;
  } catch {
    return false;
  }
}
