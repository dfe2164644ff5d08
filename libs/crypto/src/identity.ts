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

/** Strict (RFC 8032) verification; false for any malformed input instead of throwing. */
export function identityVerify(publicKeyHex: string, message: Uint8Array, signatureHex: string): boolean {
  try {
    return ed25519.verify(hexToBytes(signatureHex), message, hexToBytes(publicKeyHex), { zip215: false });
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
