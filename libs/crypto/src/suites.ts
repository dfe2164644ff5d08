import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import type { FROST } from '@noble/curves/abstract/frost.js';
import { bytesToHex, hexToBytes } from './encoding.js';

export const SUITE_IDS = ['secp256k1', 'ed25519'] as const;
export type SuiteId = (typeof SUITE_IDS)[number];

/** Thrown when a received element or scalar is not acceptable (RFC 9591 §3.1, §5). */
export class CryptoValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoValidationError';
  }
}

interface PointLike {
  is0(): boolean;
  assertValidity(): void;
  toBytes(compressed?: boolean): Uint8Array;
  isTorsionFree?: () => boolean;
}

/** One FROST ciphersuite with the checks noble leaves to the caller. */
export interface Suite {
  readonly id: SuiteId;
  /** RFC 9591 context string. */
  readonly contextString: string;
  readonly frost: FROST;
  readonly elementBytes: number;
  readonly scalarBytes: number;
  /** Serialized identifier size (a scalar). */
  readonly identifierBytes: number;
  readonly signatureBytes: number;
  /** The identifier for the 1-based participant index `n`. */
  identifier(n: number): string;
  /** The identifier's scalar value (for ordering: string order is wrong for little-endian suites). */
  identifierValue(identifier: string): bigint;
  /** Throws CryptoValidationError unless `hex` is a canonical, non-identity, prime-order element. */
  assertElement(hex: string, what: string): void;
  /** Throws CryptoValidationError unless `hex` is a canonical scalar below the group order. */
  assertScalar(hex: string, what: string): void;
  /** Independent of FROST: plain Schnorr verification of a final signature against the group key. */
  verify(signatureHex: string, message: Uint8Array, groupPublicKeyHex: string): boolean;
}

function makeSuite(
  id: SuiteId,
  contextString: string,
  frost: FROST,
  fromBytes: (b: Uint8Array) => PointLike,
  sizes: { element: number; scalar: number; signature: number },
): Suite {
  const Fn = frost.utils.Fn;
  return {
    id,
    contextString,
    frost,
    elementBytes: sizes.element,
    scalarBytes: sizes.scalar,
    identifierBytes: sizes.scalar,
    signatureBytes: sizes.signature,
    identifier: (n) => frost.Identifier.fromNumber(n),
    identifierValue: (identifier) => Fn.fromBytes(hexToBytes(identifier)),
    assertElement(hex, what) {
      if (!/^[0-9a-f]*$/.test(hex) || hex.length !== sizes.element * 2) {
        throw new CryptoValidationError(`${what}: expected ${sizes.element} bytes of lower-case hex`);
      }
      let p: PointLike;
      try {
        p = fromBytes(hexToBytes(hex));
      } catch {
        throw new CryptoValidationError(`${what}: not a valid group element`);
      }
      if (p.is0()) throw new CryptoValidationError(`${what}: identity element`);
      try {
        p.assertValidity();
      } catch {
        throw new CryptoValidationError(`${what}: not a valid group element`);
      }
      if (p.isTorsionFree && !p.isTorsionFree()) throw new CryptoValidationError(`${what}: not in the prime-order subgroup`);
      if (bytesToHex(p.toBytes(true)) !== hex) throw new CryptoValidationError(`${what}: non-canonical encoding`);
    },
    assertScalar(hex, what) {
      if (!/^[0-9a-f]*$/.test(hex) || hex.length !== sizes.scalar * 2) {
        throw new CryptoValidationError(`${what}: expected ${sizes.scalar} bytes of lower-case hex`);
      }
      try {
        Fn.fromBytes(hexToBytes(hex));
      } catch {
        throw new CryptoValidationError(`${what}: scalar out of range`);
      }
    },
    verify(signatureHex, message, groupPublicKeyHex) {
      try {
        return frost.verify(hexToBytes(signatureHex), message, hexToBytes(groupPublicKeyHex));
      } catch {
        return false;
      }
    },
  };
}

const SUITES: Record<SuiteId, Suite> = {
  secp256k1: makeSuite(
    'secp256k1',
    'FROST-secp256k1-SHA256-v1',
    secp256k1_FROST,
    (b) => secp256k1.Point.fromBytes(b),
    { element: 33, scalar: 32, signature: 65 },
  ),
  ed25519: makeSuite(
    'ed25519',
    'FROST-ED25519-SHA512-v1',
    ed25519_FROST,
    (b) => ed25519.Point.fromBytes(b),
    { element: 32, scalar: 32, signature: 64 },
  ),
};

export function getSuite(id: SuiteId): Suite {
  return SUITES[id];
}

export const isSuiteId = (s: string): s is SuiteId => (SUITE_IDS as readonly string[]).includes(s);
