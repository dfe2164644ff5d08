import { createHash } from 'node:crypto';
import type LibsodiumModule from 'libsodium-wrappers-sumo';
import { concatBytes, equalBytes, fromHex, isAllZero, isHexOf } from './bytes.js';

/*
 * RFC 9591 §6.2 FROST(ristretto255, SHA-512) verification with libsodium's ristretto255 group
 * (libsodium-wrappers-sumo, WebAssembly) and SHA-512 from node:crypto:
 *   c = H2(SerializeElement(R) || SerializeElement(PK) || msg), H2(m) = SHA-512(contextString || "chal" || m)
 *       read little-endian mod L (crypto_core_ristretto255_scalar_reduce);
 *   accept iff z*B == R + c*PK,
 * with R and PK canonical encodings of group elements other than the identity and z a canonical scalar.
 */

export type Libsodium = typeof LibsodiumModule;

let libsodium: Libsodium | null = null;
let loading: Promise<Libsodium | null> | undefined;

/**
 * Loads libsodium (its WebAssembly initialises asynchronously) once; resolves to null when it cannot be loaded.
 * The module is imported only when asked for, so importing #verify costs nothing until a ristretto255 check.
 */
export function loadLibsodium(): Promise<Libsodium | null> {
  loading ??= import('libsodium-wrappers-sumo')
    .then(async ({ default: lib }) => {
      await lib.ready;
      libsodium = lib;
      return lib;
    })
    .catch(() => null);
  return loading;
}

const CHALLENGE_PREFIX = new TextEncoder().encode('FROST-RISTRETTO255-SHA512-v1chal');
/** The canonical encoding of the identity element. */
const IDENTITY = new Uint8Array(32);

/** RFC 9591 DeserializeElement: a canonical ristretto255 encoding (libsodium's check), not the identity. */
export const isElement = (lib: Libsodium, bytes: Uint8Array): boolean =>
  bytes.length === 32 && lib.crypto_core_ristretto255_is_valid_point(bytes) && !isAllZero(bytes);

/** RFC 9591 DeserializeScalar: 32 bytes little-endian below the group order L (reducing it changes nothing). */
export const isCanonicalScalar = (lib: Libsodium, bytes: Uint8Array): boolean =>
  bytes.length === 32 && equalBytes(lib.crypto_core_ristretto255_scalar_reduce(concatBytes(bytes, new Uint8Array(32))), bytes);

// libsodium's scalar multiplications refuse a zero scalar and an identity result (they throw). In a group of
// prime order, k*P (k a canonical scalar) is the identity exactly when k = 0 or P is the identity, so those
// cases are answered here and libsodium never sees them. Addition takes the identity (all-zero encoding) as is.
const mulBase = (lib: Libsodium, k: Uint8Array): Uint8Array => (isAllZero(k) ? IDENTITY : lib.crypto_scalarmult_ristretto255_base(k));
const mul = (lib: Libsodium, k: Uint8Array, point: Uint8Array): Uint8Array =>
  isAllZero(k) || isAllZero(point) ? IDENTITY : lib.crypto_scalarmult_ristretto255(k, point);

/**
 * The verification equation z*B == R + c*PK for valid encodings R, PK (the identity allowed: the verifier
 * rejects it before) and canonical scalars z, c. Exported for tests of its edge cases (c = 0, z = 0, an
 * identity on either side).
 */
export function ristretto255Equation(lib: Libsodium, R: Uint8Array, z: Uint8Array, PK: Uint8Array, c: Uint8Array): boolean {
  const lhs = mulBase(lib, z);
  const rhs = lib.crypto_core_ristretto255_add(R, mul(lib, c, PK));
  // Encodings are canonical, so equal elements have equal bytes.
  return equalBytes(lhs, rhs);
}

/** H2 of RFC 9591 §6.2 as a canonical scalar. */
export const challenge = (lib: Libsodium, input: Uint8Array): Uint8Array =>
  lib.crypto_core_ristretto255_scalar_reduce(new Uint8Array(createHash('sha512').update(CHALLENGE_PREFIX).update(input).digest()));

/**
 * RFC 9591 §6.2 FROST(ristretto255, SHA-512): `signatureHex` is R || z (64 bytes), `publicKeyHex` the 32-byte group
 * key. Needs libsodium loaded (`await ready()` from #verify): throws before that, a programming error. Otherwise
 * false for anything malformed, never throws.
 */
export function verifyRistretto255(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  const lib = libsodium;
  if (lib === null) throw new Error('libsodium is not loaded: call `await ready()` from #verify first');
  try {
    if (!isHexOf(signatureHex, 64) || !isHexOf(publicKeyHex, 32) || !(message instanceof Uint8Array)) return false;
    const signature = fromHex(signatureHex);
    const R = signature.subarray(0, 32);
    const z = signature.subarray(32);
    const PK = fromHex(publicKeyHex);
    if (!isElement(lib, R) || !isElement(lib, PK) || !isCanonicalScalar(lib, z)) return false;
    return ristretto255Equation(lib, R, z, PK, challenge(lib, concatBytes(R, PK, message)));
  } catch {
    return false;
  }
}
