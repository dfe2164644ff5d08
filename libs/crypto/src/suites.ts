import type { FROST } from '@noble/curves/abstract/frost.js';
import { ed25519, ed25519_FROST, ristretto255, ristretto255_FROST } from '@noble/curves/ed25519.js';
import { ed448, ed448_FROST } from '@noble/curves/ed448.js';
import { p256, p256_FROST } from '@noble/curves/nist.js';
import { schnorr_FROST, secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { SUITE_IDS } from '#protocol';
import { bytesToHex, hexToBytes } from './encoding.js';

/** The suite ids, derived from the wire protocol's list (the single source of truth). */
export { SUITE_IDS };
export type SuiteId = (typeof SUITE_IDS)[number];

/** Thrown when a received element or scalar is not acceptable (RFC 9591 §3.1, §5). */
export class CryptoValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoValidationError';
  }
}

/** The part of a noble point this module uses (validation and the group arithmetic of share checks). */
export interface SuitePoint {
  is0(): boolean;
  assertValidity(): void;
  toBytes(compressed?: boolean): Uint8Array;
  isTorsionFree(): boolean;
  add(other: SuitePoint): SuitePoint;
  multiply(scalar: bigint): SuitePoint;
  /** Variable-time: only for public scalars. */
  multiplyUnsafe(scalar: bigint): SuitePoint;
  equals(other: SuitePoint): boolean;
}

/** A noble point class (the suite's group). */
export interface SuitePointCons {
  readonly ZERO: SuitePoint;
  readonly BASE: SuitePoint;
  fromBytes(bytes: Uint8Array): SuitePoint;
}

/** One FROST ciphersuite with the checks noble leaves to the caller. */
export interface Suite {
  readonly id: SuiteId;
  /** RFC 9591 context string. */
  readonly contextString: string;
  readonly frost: FROST;
  /** The group's point class (noble), for arithmetic on public elements. */
  readonly Point: SuitePointCons;
  /** True when scalars and identifiers serialize little-endian (string order is not numeric order). */
  readonly littleEndian: boolean;
  readonly elementBytes: number;
  readonly scalarBytes: number;
  /** Serialized identifier size (a scalar). */
  readonly identifierBytes: number;
  readonly signatureBytes: number;
  /** Size of the standard group public key encoding (x-only, 32 bytes, for secp256k1-tr). */
  readonly groupPublicKeyBytes: number;
  /**
   * The suite's standard encoding of the group public key, from the VSS commitment's constant term
   * (a serialized element). For secp256k1-tr this is the BIP340 x-only key; otherwise the element itself.
   */
  encodeGroupPublicKey(commitment0Hex: string): string;
  /** The identifier for the 1-based participant index `n`. */
  identifier(n: number): string;
  /** The identifier's scalar value (for ordering: string order is wrong for little-endian suites). */
  identifierValue(identifier: string): bigint;
  /** Throws CryptoValidationError unless `hex` is a canonical, non-identity, prime-order element. */
  assertElement(hex: string, what: string): void;
  /** Throws CryptoValidationError unless `hex` is a canonical scalar below the group order. */
  assertScalar(hex: string, what: string): void;
  /**
   * Plain Schnorr verification of a final signature against the group key in its standard encoding
   * (`encodeGroupPublicKey`; x-only for secp256k1-tr, whose signatures are BIP340). Never throws.
   */
  verify(signatureHex: string, message: Uint8Array, groupPublicKeyHex: string): boolean;
}

function makeSuite(
  id: SuiteId,
  contextString: string,
  frost: FROST,
  Point: SuitePointCons,
  sizes: { element: number; scalar: number; signature: number; groupPublicKey?: number },
): Suite {
  const Fn = frost.utils.Fn;
  if (Fn.BYTES !== sizes.scalar) throw new Error(`${id}: scalar size mismatch`);
  const groupKeyBytes = sizes.groupPublicKey ?? sizes.element;
  // Weierstrass suites serialize elements as 33-byte compressed points; x-only drops the prefix byte.
  const dropped = sizes.element - groupKeyBytes;
  const isHex = (hex: string, bytes: number) => hex.length === bytes * 2 && /^[0-9a-f]*$/.test(hex);
  return {
    id,
    contextString,
    frost,
    Point,
    littleEndian: Fn.isLE,
    elementBytes: sizes.element,
    scalarBytes: sizes.scalar,
    identifierBytes: sizes.scalar,
    signatureBytes: sizes.signature,
    groupPublicKeyBytes: groupKeyBytes,
    encodeGroupPublicKey(commitment0Hex) {
      if (!isHex(commitment0Hex, sizes.element)) {
        throw new CryptoValidationError(`group key: expected ${sizes.element} bytes of lower-case hex`);
      }
      return commitment0Hex.slice(dropped * 2);
    },
    identifier: (n) => frost.Identifier.fromNumber(n),
    identifierValue: (identifier) => Fn.fromBytes(hexToBytes(identifier)),
    assertElement(hex, what) {
      if (!/^[0-9a-f]*$/.test(hex) || hex.length !== sizes.element * 2) {
        throw new CryptoValidationError(`${what}: expected ${sizes.element} bytes of lower-case hex`);
      }
      let p: SuitePoint;
      try {
        p = Point.fromBytes(hexToBytes(hex));
      } catch {
        throw new CryptoValidationError(`${what}: not a valid group element`);
      }
      if (p.is0()) throw new CryptoValidationError(`${what}: identity element`);
      try {
        p.assertValidity();
      } catch {
        throw new CryptoValidationError(`${what}: not a valid group element`);
      }
      // Every noble point class has isTorsionFree (trivially true for prime-order groups and ristretto255).
      if (!p.isTorsionFree()) throw new CryptoValidationError(`${what}: not in the prime-order subgroup`);
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
      if (!isHex(signatureHex, sizes.signature) || !isHex(groupPublicKeyHex, groupKeyBytes)) return false;
      try {
        return frost.verify(hexToBytes(signatureHex), message, hexToBytes(groupPublicKeyHex));
      } catch {
        return false;
      }
    },
  };
}

const SUITES: Record<SuiteId, Suite> = {
  secp256k1: makeSuite('secp256k1', 'FROST-secp256k1-SHA256-v1', secp256k1_FROST, secp256k1.Point, {
    element: 33,
    scalar: 32,
    signature: 65,
  }),
  ed25519: makeSuite('ed25519', 'FROST-ED25519-SHA512-v1', ed25519_FROST, ed25519.Point, {
    element: 32,
    scalar: 32,
    signature: 64,
  }),
  // frost-rs's Taproot suite: elements stay 33-byte compressed points (the dealer's commitments[0] may
  // have odd y; noble negates the package to even y when it signs), signatures are 64-byte BIP340, and
  // the group key's standard encoding is the 32-byte x-only key. Dealer keys are not Taproot-tweaked.
  'secp256k1-tr': makeSuite('secp256k1-tr', 'FROST-secp256k1-SHA256-TR-v1', schnorr_FROST, secp256k1.Point, {
    element: 33,
    scalar: 32,
    signature: 64,
    groupPublicKey: 32,
  }),
  ristretto255: makeSuite('ristretto255', 'FROST-RISTRETTO255-SHA512-v1', ristretto255_FROST, ristretto255.Point, {
    element: 32,
    scalar: 32,
    signature: 64,
  }),
  p256: makeSuite('p256', 'FROST-P256-SHA256-v1', p256_FROST, p256.Point, { element: 33, scalar: 32, signature: 65 }),
  ed448: makeSuite('ed448', 'FROST-ED448-SHAKE256-v1', ed448_FROST, ed448.Point, { element: 57, scalar: 57, signature: 114 }),
};

export function getSuite(id: SuiteId): Suite {
  return SUITES[id];
}

export const isSuiteId = (s: string): s is SuiteId => (SUITE_IDS as readonly string[]).includes(s);
