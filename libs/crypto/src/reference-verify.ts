import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import type * as TinySecp256k1 from 'tiny-secp256k1';
import type { SuiteId } from './suites.js';

/**
 * Verifiers that do not go through noble's FROST code: used by tests and the demo to check signatures
 * independently of the implementation that produced them.
 */

/** Ed25519 verification by OpenSSL (node:crypto), independent of noble. */
export function verifyEd25519WithOpenSsl(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signatureHex) || !/^[0-9a-f]{64}$/.test(publicKeyHex)) return false;
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]);
  try {
    return nodeVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** Ed448 (RFC 8032, empty context) verification by OpenSSL (node:crypto), independent of noble. */
export function verifyEd448WithOpenSsl(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  if (!/^[0-9a-f]{228}$/.test(signatureHex) || !/^[0-9a-f]{114}$/.test(publicKeyHex)) return false;
  const spki = Buffer.concat([Buffer.from('3043300506032b6571033a00', 'hex'), Buffer.from(publicKeyHex, 'hex')]);
  try {
    return nodeVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

// tiny-secp256k1 (libsecp256k1 compiled to WASM) is loaded only when a BIP340 check is asked for, so the
// coordinator and signer never instantiate its WASM module just by importing #crypto.
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
 * BIP340 verification by libsecp256k1 (tiny-secp256k1), independent of noble. BIP340 as implemented there
 * takes 32-byte messages only: any other message length (or a missing library) gives false.
 */
export function verifyBip340WithLibsecp256k1(signatureHex: string, message: Uint8Array, xOnlyPublicKeyHex: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signatureHex) || !/^[0-9a-f]{64}$/.test(xOnlyPublicKeyHex) || message.length !== 32) return false;
  const lib = loadTinySecp256k1();
  if (!lib) return false;
  try {
    return lib.verifySchnorr(message, Buffer.from(xOnlyPublicKeyHex, 'hex'), Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

// RFC 9380 expand_message_xmd with SHA-256, written out here so the check does not go through noble's FROST code.
function expandMessageXmd(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  const bInBytes = 32;
  const rInBytes = 64;
  const ell = Math.ceil(lenInBytes / bInBytes);
  const dstPrime = new Uint8Array([...dst, dst.length]);
  const zPad = new Uint8Array(rInBytes);
  const libStr = new Uint8Array([(lenInBytes >> 8) & 0xff, lenInBytes & 0xff]);
  const b0 = sha256(new Uint8Array([...zPad, ...msg, ...libStr, 0, ...dstPrime]));
  const out: number[] = [];
  let prev = sha256(new Uint8Array([...b0, 1, ...dstPrime]));
  out.push(...prev);
  for (let i = 2; i <= ell; i++) {
    const x = b0.map((v, j) => v ^ prev[j]!);
    prev = sha256(new Uint8Array([...x, i, ...dstPrime]));
    out.push(...prev);
  }
  return new Uint8Array(out.slice(0, lenInBytes));
}

const toBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const toBigLE = (b: Uint8Array) => toBig(Uint8Array.from(b).reverse());

interface WeierstrassPoint {
  toBytes(compressed?: boolean): Uint8Array;
  add(o: WeierstrassPoint): WeierstrassPoint;
  multiply(s: bigint): WeierstrassPoint;
  equals(o: WeierstrassPoint): boolean;
  is0(): boolean;
}
interface WeierstrassCurve {
  BASE: WeierstrassPoint;
  fromBytes(b: Uint8Array): WeierstrassPoint;
}

/**
 * RFC 9591 verification for the SEC1-encoded suites (§6.4 P-256, §6.5 secp256k1), from the spec:
 * c = H2(R || PK || msg) with H2 = hash_to_field(expand_message_xmd SHA-256, DST = contextString || "chal",
 * L = 48) mod the group order; accept iff z*G == R + c*PK. noble supplies only the point arithmetic.
 */
function verifyWeierstrassFrost(
  Point: WeierstrassCurve,
  order: bigint,
  contextString: string,
  signatureHex: string,
  message: Uint8Array,
  publicKeyHex: string,
): boolean {
  if (!/^[0-9a-f]{130}$/.test(signatureHex) || !/^[0-9a-f]{66}$/.test(publicKeyHex)) return false;
  const sig = Buffer.from(signatureHex, 'hex');
  const R = Point.fromBytes(sig.subarray(0, 33));
  const z = toBig(sig.subarray(33));
  if (z >= order) return false;
  const PK = Point.fromBytes(Buffer.from(publicKeyHex, 'hex'));
  if (R.is0() || PK.is0()) return false;
  const dst = new TextEncoder().encode(`${contextString}chal`);
  const input = new Uint8Array([...R.toBytes(true), ...PK.toBytes(true), ...message]);
  const c = toBig(expandMessageXmd(input, dst, 48)) % order;
  const lhs = z === 0n ? null : Point.BASE.multiply(z);
  const cPK = c === 0n ? null : PK.multiply(c);
  const rhs = cPK ? R.add(cPK) : R;
  return lhs !== null && lhs.equals(rhs);
}

/**
 * RFC 9591 §6.5 (FROST(secp256k1, SHA-256)) verification from the spec: c = H2(R || PK || msg) with
 * H2 = hash_to_field(expand_message_xmd, DST = contextString || "chal", L = 48); accept iff z*G == R + c*PK.
 */
export function verifySecp256k1FrostFromSpec(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    return verifyWeierstrassFrost(secp256k1.Point, secp256k1.Point.Fn.ORDER, 'FROST-secp256k1-SHA256-v1', signatureHex, message, publicKeyHex);
  } catch {
    return false;
  }
}

/** RFC 9591 §6.4 (FROST(P-256, SHA-256)) verification from the spec, as for secp256k1 above. */
export function verifyP256FrostFromSpec(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    return verifyWeierstrassFrost(p256.Point, p256.Point.Fn.ORDER, 'FROST-P256-SHA256-v1', signatureHex, message, publicKeyHex);
  } catch {
    return false;
  }
}

/**
 * RFC 9591 §6.2 (FROST(ristretto255, SHA-512)) verification from the spec: c = H2(R || PK || msg) with
 * H2(m) = SHA-512(contextString || "chal" || m) read little-endian mod L; accept iff z*B == R + c*PK.
 * noble supplies only the ristretto255 group arithmetic (and its canonical decoding).
 */
export function verifyRistretto255FrostFromSpec(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    if (!/^[0-9a-f]{128}$/.test(signatureHex) || !/^[0-9a-f]{64}$/.test(publicKeyHex)) return false;
    const L = ristretto255.Point.Fn.ORDER;
    const sig = Buffer.from(signatureHex, 'hex');
    const rBytes = sig.subarray(0, 32);
    const R = ristretto255.Point.fromBytes(rBytes);
    const z = toBigLE(sig.subarray(32));
    if (z >= L || z === 0n) return false;
    const pkBytes = Buffer.from(publicKeyHex, 'hex');
    const PK = ristretto255.Point.fromBytes(pkBytes);
    if (R.is0() || PK.is0()) return false;
    const prefix = new TextEncoder().encode('FROST-RISTRETTO255-SHA512-v1chal');
    const c = toBigLE(sha512(new Uint8Array([...prefix, ...rBytes, ...pkBytes, ...message]))) % L;
    const rhs = c === 0n ? R : R.add(PK.multiply(c));
    return ristretto255.Point.BASE.multiply(z).equals(rhs);
  } catch {
    return false;
  }
}

/**
 * Verifies a final signature without noble's FROST code, against the group key in the suite's standard
 * encoding (`groupPublicKey(pkg)`): OpenSSL for ed25519/ed448, libsecp256k1 for secp256k1-tr (BIP340,
 * 32-byte messages only), the RFC 9591 equation recomputed from the spec for secp256k1, p256 and
 * ristretto255. Returns false for malformed input, never throws.
 */
export function verifyIndependently(suite: SuiteId, signatureHex: string, message: Uint8Array, groupPublicKeyHex: string): boolean {
  try {
    switch (suite) {
      case 'ed25519':
        return verifyEd25519WithOpenSsl(signatureHex, message, groupPublicKeyHex);
      case 'ed448':
        return verifyEd448WithOpenSsl(signatureHex, message, groupPublicKeyHex);
      case 'secp256k1':
        return verifySecp256k1FrostFromSpec(signatureHex, message, groupPublicKeyHex);
      case 'secp256k1-tr':
        return verifyBip340WithLibsecp256k1(signatureHex, message, groupPublicKeyHex);
      case 'p256':
        return verifyP256FrostFromSpec(signatureHex, message, groupPublicKeyHex);
      case 'ristretto255':
        return verifyRistretto255FrostFromSpec(signatureHex, message, groupPublicKeyHex);
    }
  } catch {
    return false;
  }
}
