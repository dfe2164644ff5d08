import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { fromHex, isHexOf } from './bytes.js';

/*
 * FROST(Ed25519, SHA-512) (RFC 9591 §6.1) and FROST(Ed448, SHAKE256) (§6.3) produce RFC 8032 Ed25519 and Ed448
 * (empty context) signatures: OpenSSL verifies them, through node:crypto.
 */

function verifyWithOpenSsl(spkiPrefixHex: string, signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    const spki = Buffer.concat([Buffer.from(spkiPrefixHex, 'hex'), fromHex(publicKeyHex)]);
    return nodeVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), fromHex(signatureHex));
  } catch {
    return false;
  }
}

/** Ed25519 (RFC 8032) by OpenSSL: 64-byte signature, 32-byte public key. False for malformed input, never throws. */
export function verifyEd25519(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  if (!isHexOf(signatureHex, 64) || !isHexOf(publicKeyHex, 32) || !(message instanceof Uint8Array)) return false;
  return verifyWithOpenSsl('302a300506032b6570032100', signatureHex, message, publicKeyHex);
}

/** Ed448 (RFC 8032, empty context) by OpenSSL: 114-byte signature, 57-byte public key. Never throws. */
export function verifyEd448(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  if (!isHexOf(signatureHex, 114) || !isHexOf(publicKeyHex, 57) || !(message instanceof Uint8Array)) return false;
  return verifyWithOpenSsl('3043300506032b6571033a00', signatureHex, message, publicKeyHex);
}
