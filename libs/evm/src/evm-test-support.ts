import { secp256k1 } from '@noble/curves/secp256k1.js';
import { SECP256K1_N } from './frost-evm.js';

/**
 * A secp256k1 point whose x-coordinate is not below the group order (about 2^-128 of keys): what no
 * dealer or ceremony will ever produce in a test run, so tests that need an EVM-unusable key use it.
 * Nobody knows its discrete logarithm; it only stands where a public key is read.
 */
export function unusableGroupKey(): string {
  for (let x = SECP256K1_N; ; x++) {
    const hex = `02${x.toString(16).padStart(64, '0')}`;
    try {
      secp256k1.Point.fromHex(hex).assertValidity();
      return hex;
    } catch {
      // not on the curve: the next x
    }
  }
}
