import { createRequire } from 'node:module';
import type * as TinySecp256k1 from 'tiny-secp256k1';
import { fromHex, isHexOf } from './bytes.js';

// tiny-secp256k1 (libsecp256k1 compiled to WebAssembly) is loaded only when a BIP340 check is asked for.
let tiny: typeof TinySecp256k1 | null | undefined;
function loadTinySecp256k1(): typeof TinySecp256k1 | null {
  if (tiny === undefined) {
    try {
      tiny = createRequire(import.meta.url)('tiny-secp256k1') as typeof TinySecp256k1;
    } catch {
      tiny = null;
    }
  }
  return tiny;
}

/**
 * BIP340 by libsecp256k1 (tiny-secp256k1): the signatures of frost-rs's FROST(secp256k1, SHA-256, Taproot) suite
 * (`secp256k1-tr`), against the 32-byte x-only key. tiny-secp256k1 takes 32-byte messages only: any other
 * message length (or a missing library) gives false. Never throws.
 */
export function verifyBip340(signatureHex: string, message: Uint8Array, xOnlyPublicKeyHex: string): boolean {
  if (!isHexOf(signatureHex, 64) || !isHexOf(xOnlyPublicKeyHex, 32) || !(message instanceof Uint8Array) || message.length !== 32) return false;
  const lib = loadTinySecp256k1();
  if (!lib) return false;
  try {
    return lib.verifySchnorr(message, fromHex(xOnlyPublicKeyHex), fromHex(signatureHex));
  } catch {
    return false;
  }
}
