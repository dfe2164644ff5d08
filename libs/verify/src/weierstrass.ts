import elliptic from 'elliptic';
import { bigEndianToBigInt, concatBytes, fromHex, isHexOf } from './bytes.js';
import { hashToFieldXmdSha256 } from './hash-to-field.js';

/*
 * RFC 9591 verification for the two SEC1-encoded suites, §6.4 FROST(P-256, SHA-256) and §6.5
 * FROST(secp256k1, SHA-256), with the point arithmetic of `elliptic` and SHA-256 from node:crypto:
 *   c = H2(SerializeElement(R) || SerializeElement(PK) || msg), H2 = hash_to_field(expand_message_xmd SHA-256,
 *       DST = contextString || "chal", L = 48) reduced mod the group order;
 *   accept iff z*G == R + c*PK,
 * with R and PK compressed SEC1 points that are on the curve (both curves have cofactor 1, so on the curve
 * means in the group) and not the identity, and z a canonical scalar below the order.
 */

/** The part of elliptic's short-Weierstrass point API used here (its typings leave `ec.curve` untyped). */
interface EllipticPoint {
  add(other: EllipticPoint): EllipticPoint;
  /** elliptic reads the scalar with `new BN(k, 16)`: a hex string. */
  mul(k: string): EllipticPoint;
  eq(other: EllipticPoint): boolean;
  isInfinity(): boolean;
  validate(): boolean;
  encodeCompressed(enc: 'hex'): string;
}
interface EllipticBigNumber {
  toString(base: 16): string;
}
interface EllipticShortCurve {
  readonly p: EllipticBigNumber;
  readonly n: EllipticBigNumber;
  readonly g: EllipticPoint;
  decodePoint(bytes: Buffer): EllipticPoint;
}

export interface WeierstrassSuite {
  readonly name: 'secp256k1' | 'p256';
  readonly curve: EllipticShortCurve;
  /** The field prime p and the group order n. */
  readonly p: bigint;
  readonly n: bigint;
  /** DST of H2: contextString || "chal". */
  readonly challengeDst: Uint8Array;
}

const CONTEXT_STRINGS = { secp256k1: 'FROST-secp256k1-SHA256-v1', p256: 'FROST-P256-SHA256-v1' } as const;
const suites = new Map<WeierstrassSuite['name'], WeierstrassSuite>();

/** The suite's curve (built by elliptic on first use). */
export function weierstrassSuite(name: WeierstrassSuite['name']): WeierstrassSuite {
  let suite = suites.get(name);
  if (!suite) {
    const curve = new elliptic.ec(name).curve as EllipticShortCurve;
    suite = {
      name,
      curve,
      p: BigInt(`0x${curve.p.toString(16)}`),
      n: BigInt(`0x${curve.n.toString(16)}`),
      challengeDst: new TextEncoder().encode(`${CONTEXT_STRINGS[name]}chal`),
    };
    suites.set(name, suite);
  }
  return suite;
}

/**
 * RFC 9591 DeserializeElement for these suites: 33 bytes, prefix 0x02 or 0x03, x below the field prime, a point on
 * the curve, not the identity (which has no 33-byte encoding), and the canonical encoding of that point.
 * Returns null otherwise. (elliptic alone would reduce an x at or above p instead of rejecting it.)
 */
export function decodeElement(suite: WeierstrassSuite, bytes: Uint8Array): EllipticPoint | null {
  if (bytes.length !== 33 || (bytes[0] !== 0x02 && bytes[0] !== 0x03)) return null;
  if (bigEndianToBigInt(bytes.subarray(1)) >= suite.p) return null;
  let point: EllipticPoint;
  try {
    point = suite.curve.decodePoint(Buffer.from(bytes));
  } catch {
    return null;
  }
  if (point.isInfinity() || !point.validate()) return null;
  if (point.encodeCompressed('hex') !== Buffer.from(bytes).toString('hex')) return null;
  return point;
}

/** RFC 9591 DeserializeScalar for these suites: 32 bytes big-endian, below the group order; null otherwise. */
export function decodeScalar(suite: WeierstrassSuite, bytes: Uint8Array): bigint | null {
  if (bytes.length !== 32) return null;
  const value = bigEndianToBigInt(bytes);
  return value < suite.n ? value : null;
}

// Group operations with the identity as null (elliptic's own infinity point never leaves these helpers).
type Element = EllipticPoint | null;
const mul = (point: EllipticPoint, k: bigint): Element => {
  if (k === 0n) return null;
  const product = point.mul(k.toString(16));
  return product.isInfinity() ? null : product;
};
const add = (a: Element, b: Element): Element => {
  if (a === null) return b;
  if (b === null) return a;
  const sum = a.add(b);
  return sum.isInfinity() ? null : sum;
};
const same = (a: Element, b: Element): boolean => (a === null || b === null ? a === b : a.eq(b));

/** H2 of RFC 9591 §6.4/§6.5: hash_to_field(m) with DST = contextString || "chal", L = 48, mod the order. */
export const challenge = (suite: WeierstrassSuite, input: Uint8Array): bigint => hashToFieldXmdSha256(input, suite.challengeDst, 48, suite.n);

function verifyFrostWeierstrass(suite: WeierstrassSuite, signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  if (!isHexOf(signatureHex, 65) || !isHexOf(publicKeyHex, 33) || !(message instanceof Uint8Array)) return false;
  const signature = fromHex(signatureHex);
  const rBytes = signature.subarray(0, 33);
  const pkBytes = fromHex(publicKeyHex);
  const R = decodeElement(suite, rBytes);
  const z = decodeScalar(suite, signature.subarray(33));
  const PK = decodeElement(suite, pkBytes);
  if (R === null || z === null || PK === null) return false;
  const c = challenge(suite, concatBytes(rBytes, pkBytes, message));
  return same(mul(suite.curve.g, z), add(R, mul(PK, c)));
}

/**
 * RFC 9591 §6.5 FROST(secp256k1, SHA-256): `signatureHex` is SerializeElement(R) || SerializeScalar(z) (65 bytes),
 * `publicKeyHex` the compressed group key (33 bytes). elliptic + node:crypto; false for anything malformed, never throws.
 */
export function verifySecp256k1(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    return verifyFrostWeierstrass(weierstrassSuite('secp256k1'), signatureHex, message, publicKeyHex);
  } catch {
    return false;
  }
}

/** RFC 9591 §6.4 FROST(P-256, SHA-256), as `verifySecp256k1` on P-256. */
export function verifyP256(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    return verifyFrostWeierstrass(weierstrassSuite('p256'), signatureHex, message, publicKeyHex);
  } catch {
    return false;
  }
}

