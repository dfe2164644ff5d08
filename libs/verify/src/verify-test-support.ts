import { expect } from 'vitest';
import type { SuiteId } from './index.js';

/** How a suite lays out its signature R || z, for the tampering checks. */
export interface SignatureLayout {
  /** Bytes of the serialized R. */
  readonly rBytes: number;
  readonly zBytes: number;
  /** True when z is serialized little-endian. */
  readonly littleEndian: boolean;
}

/** Where R and z sit in each suite's signature. */
export const LAYOUTS: Record<SuiteId, SignatureLayout> = {
  ed25519: { rBytes: 32, zBytes: 32, littleEndian: true },
  ed448: { rBytes: 57, zBytes: 57, littleEndian: true },
  ristretto255: { rBytes: 32, zBytes: 32, littleEndian: true },
  p256: { rBytes: 33, zBytes: 32, littleEndian: false },
  secp256k1: { rBytes: 33, zBytes: 32, littleEndian: false },
  'secp256k1-tr': { rBytes: 32, zBytes: 32, littleEndian: false },
};

export type Verifier = (signatureHex: string, message: Uint8Array, publicKeyHex: string) => boolean;

/** Flips bit `bit` of byte `byteIndex` of a hex string. */
export function flipBit(hex: string, byteIndex: number, bit = 0): string {
  const bytes = Buffer.from(hex, 'hex');
  bytes[byteIndex] = bytes[byteIndex]! ^ (1 << bit);
  return bytes.toString('hex');
}

/**
 * Checks that `verify` accepts (signature, message, publicKey) and rejects it with a flipped bit in R, a
 * flipped bit in z, a flipped bit in the message, another valid key (`otherPublicKey`), and returns false
 * (never throws) for malformed encodings and lengths.
 */
export function expectTamperingRejected(
  verify: Verifier,
  layout: SignatureLayout,
  signature: string,
  message: Uint8Array,
  publicKey: string,
  otherPublicKey: string,
): void {
  expect(signature).toHaveLength((layout.rBytes + layout.zBytes) * 2);
  expect(message.length).toBeGreaterThan(0);
  expect(verify(signature, message, publicKey), 'the untampered signature').toBe(true);

  // A flipped bit in R (in its x coordinate / encoding body), in z (its least significant byte), in the message.
  expect(verify(flipBit(signature, 1), message, publicKey), 'flipped bit in R').toBe(false);
  expect(verify(flipBit(signature, layout.rBytes - 1, 7), message, publicKey), 'flipped high bit of R’s last byte').toBe(false);
  const zLow = layout.littleEndian ? layout.rBytes : layout.rBytes + layout.zBytes - 1;
  expect(verify(flipBit(signature, zLow), message, publicKey), 'flipped bit in z').toBe(false);
  const tamperedMessage = Uint8Array.from(message);
  tamperedMessage[0] = tamperedMessage[0]! ^ 1;
  expect(verify(signature, tamperedMessage, publicKey), 'flipped bit in the message').toBe(false);
  // Another (valid) key.
  expect(otherPublicKey).not.toBe(publicKey);
  expect(verify(signature, message, otherPublicKey), 'wrong key').toBe(false);

  // Malformed input: false, never a throw.
  const malformedSignatures = [
    '',
    signature.slice(0, -2),
    `${signature}00`,
    signature.slice(2),
    signature.slice(0, -1),
    signature.toUpperCase(),
    'zz'.repeat(layout.rBytes + layout.zBytes),
  ];
  for (const bad of malformedSignatures.filter((s) => s !== signature)) expect(verify(bad, message, publicKey), `signature ${JSON.stringify(bad)}`).toBe(false);
  const malformedKeys = ['', publicKey.slice(0, -2), `${publicKey}00`, publicKey.slice(2), publicKey.toUpperCase(), 'zz'.repeat(publicKey.length / 2)];
  for (const bad of malformedKeys.filter((k) => k !== publicKey)) expect(verify(signature, message, bad), `key ${JSON.stringify(bad)}`).toBe(false);
  expect(verify(signature, Buffer.from(message).toString('hex') as unknown as Uint8Array, publicKey), 'message not bytes').toBe(false);
  expect(verify(undefined as unknown as string, message, publicKey)).toBe(false);
  expect(verify(signature, message, null as unknown as string)).toBe(false);
}
