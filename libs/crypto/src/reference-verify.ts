import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * Verifiers that do not go through noble's FROST code: used by tests and the demo to check signatures
 * independently of the implementation that produced them.
 */

/** Ed25519 verification by OpenSSL (node:crypto), independent of noble. */
export function verifyEd25519WithOpenSsl(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signatureHex) || !/^[0-9a-f]{64}$/.test(publicKeyHex)) return false;
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]);
  return nodeVerify(null, message, createPublicKey({ key: spki, format: 'der', type: 'spki' }), Buffer.from(signatureHex, 'hex'));
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

const N = secp256k1.Point.Fn.ORDER;
const toBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);

/**
 * RFC 9591 §6.5 (FROST(secp256k1, SHA-256)) verification from the spec: c = H2(R || PK || msg) with
 * H2 = hash_to_field(expand_message_xmd, DST = contextString || "chal", L = 48); accept iff z*G == R + c*PK.
 */
export function verifySecp256k1FrostFromSpec(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  try {
    return verifySecp256k1(signatureHex, message, publicKeyHex);
  } catch {
    return false;
  }
}

function verifySecp256k1(signatureHex: string, message: Uint8Array, publicKeyHex: string): boolean {
  const sig = Buffer.from(signatureHex, 'hex');
  if (sig.length !== 65) return false;
  const R = secp256k1.Point.fromBytes(sig.subarray(0, 33));
  const z = toBig(sig.subarray(33));
  if (z >= N) return false;
  const PK = secp256k1.Point.fromBytes(Buffer.from(publicKeyHex, 'hex'));
  const dst = new TextEncoder().encode('FROST-secp256k1-SHA256-v1chal');
  const input = new Uint8Array([...R.toBytes(true), ...PK.toBytes(true), ...message]);
  const c = toBig(expandMessageXmd(input, dst, 48)) % N;
  const lhs = secp256k1.Point.BASE.multiply(z);
  const rhs = R.add(PK.multiply(c));
  return lhs.equals(rhs);
}

/** Verifies a final signature of either suite without noble's FROST code. */
export function verifyIndependently(suite: 'secp256k1' | 'ed25519', signatureHex: string, message: Uint8Array, groupPublicKeyHex: string): boolean {
  return suite === 'ed25519'
    ? verifyEd25519WithOpenSsl(signatureHex, message, groupPublicKeyHex)
    : verifySecp256k1FrostFromSpec(signatureHex, message, groupPublicKeyHex);
}
