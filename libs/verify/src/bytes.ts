/** Byte and hex helpers for the verifiers (node:crypto's Buffer only; nothing from noble). */

/** True when `hex` is exactly `bytes` bytes of lower-case hex (the encoding used on the wire and in the API). */
export const isHexOf = (hex: unknown, bytes: number): hex is string =>
  typeof hex === 'string' && hex.length === bytes * 2 && /^[0-9a-f]*$/.test(hex);

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

export const concatBytes = (...parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** OS2IP: the big-endian unsigned integer a byte string encodes. */
export const bigEndianToBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

export const isAllZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
