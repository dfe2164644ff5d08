import type { SUITE_IDS } from '#protocol';
import { verifyBip340 } from './bip340.js';
import { verifyEd25519, verifyEd448 } from './openssl.js';
import { loadLibsodium, verifyRistretto255 } from './ristretto255.js';
import { verifyP256, verifySecp256k1 } from './weierstrass.js';

/**
 * Signature verifiers that share no code with @noble/* (the implementation that produces Roundtable's
 * signatures), for tests, the demo and the benchmark: not used by the coordinator.
 *
 * - ed25519, ed448: OpenSSL (node:crypto).
 * - secp256k1, p256: the RFC 9591 equation with `elliptic`'s point arithmetic, node:crypto's SHA-256 and
 *   RFC 9380 expand_message_xmd written here.
 * - ristretto255: the RFC 9591 equation with libsodium's ristretto255 group, node:crypto's SHA-512.
 * - secp256k1-tr (BIP340): libsecp256k1 (tiny-secp256k1), 32-byte messages only.
 *
 * Every verifier takes the group key in its suite's standard encoding (x-only for secp256k1-tr) and returns
 * false, never throws, for malformed input. libsodium initialises asynchronously: `verifyIndependently` waits
 * for it itself; the synchronous `verifyRistretto255` and `verifyIndependentlySync` need `await ready()` once.
 */

export { verifyBip340 } from './bip340.js';
export { expandMessageXmdSha256 } from './hash-to-field.js';
export { verifyEd25519, verifyEd448 } from './openssl.js';
export { verifyRistretto255 } from './ristretto255.js';
export { verifyP256, verifySecp256k1 } from './weierstrass.js';

/** The suite ids (the wire protocol's list; a type-only import, so #verify runs none of #protocol's code). */
export type SuiteId = (typeof SUITE_IDS)[number];

/** Loads libsodium once (idempotent). Afterwards every verifier here can be called synchronously. */
export async function ready(): Promise<void> {
  if ((await loadLibsodium()) === null) throw new Error('libsodium-wrappers-sumo could not be loaded');
}

/**
 * Verifies a final signature against the group key in the suite's standard encoding, with the verifier
 * listed above for the suite. Synchronous: for ristretto255 it needs `await ready()` first (it throws
 * before that, a programming error); otherwise false for malformed input or an unknown suite, never throws.
 */
export function verifyIndependentlySync(suite: SuiteId, signatureHex: string, message: Uint8Array, groupPublicKeyHex: string): boolean {
  switch (suite) {
    case 'ed25519':
      return verifyEd25519(signatureHex, message, groupPublicKeyHex);
    case 'ed448':
      return verifyEd448(signatureHex, message, groupPublicKeyHex);
    case 'secp256k1':
      return verifySecp256k1(signatureHex, message, groupPublicKeyHex);
    case 'p256':
      return verifyP256(signatureHex, message, groupPublicKeyHex);
    case 'ristretto255':
      return verifyRistretto255(signatureHex, message, groupPublicKeyHex);
    case 'secp256k1-tr':
      return verifyBip340(signatureHex, message, groupPublicKeyHex);
  }
  return false;
}

/**
 * `verifyIndependentlySync` after loading what it needs: resolves to false for malformed input, an unknown
 * suite or a verifier that cannot be loaded; never rejects.
 */
export async function verifyIndependently(suite: SuiteId, signatureHex: string, message: Uint8Array, groupPublicKeyHex: string): Promise<boolean> {
  try {
    if (suite === 'ristretto255') await ready();
    return verifyIndependentlySync(suite, signatureHex, message, groupPublicKeyHex);
  } catch {
    return false;
  }
}
