import { bytesToHex as nobleBytesToHex, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';

export const bytesToHex = (b: Uint8Array): string => nobleBytesToHex(b);
export const hexToBytes = (h: string): Uint8Array<ArrayBuffer> => nobleHexToBytes(h);
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Constant-time equality of two byte strings of equal length. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
