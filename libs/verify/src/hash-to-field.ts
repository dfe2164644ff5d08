import { createHash } from 'node:crypto';
import { bigEndianToBigInt } from './bytes.js';

/*
 * RFC 9380 §5.3.1 expand_message_xmd and §5.2 hash_to_field, written here from the RFC with SHA-256 from
 * node:crypto (OpenSSL), so that the secp256k1 and P-256 challenges do not go through noble's hash-to-curve.
 */

const sha256 = (...parts: readonly Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** SHA-256: b_in_bytes = 32 (output size), s_in_bytes = 64 (input block size). */
const B_IN_BYTES = 32;
const S_IN_BYTES = 64;

/** RFC 9380 §5.3.1 expand_message_xmd(msg, DST, len_in_bytes) with H = SHA-256. Throws on the RFC's ABORT conditions. */
export function expandMessageXmdSha256(msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  // 1. ell = ceil(len_in_bytes / b_in_bytes); 2. ABORT if ell > 255 or len_in_bytes > 65535 or len(DST) > 255
  const ell = Math.ceil(lenInBytes / B_IN_BYTES);
  if (!Number.isSafeInteger(lenInBytes) || lenInBytes < 0 || ell > 255 || lenInBytes > 65535 || dst.length > 255) {
    throw new RangeError('expand_message_xmd: ABORT (len_in_bytes or DST length out of range)');
  }
  // 3. DST_prime = DST || I2OSP(len(DST), 1); 4. Z_pad = I2OSP(0, s_in_bytes); 5. l_i_b_str = I2OSP(len_in_bytes, 2)
  const dstPrime = Uint8Array.of(...dst, dst.length);
  const zPad = new Uint8Array(S_IN_BYTES);
  const libStr = Uint8Array.of(lenInBytes >> 8, lenInBytes & 0xff);
  // 6. msg_prime = Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime; 7. b_0 = H(msg_prime)
  const b0 = sha256(zPad, msg, libStr, Uint8Array.of(0), dstPrime);
  // 8. b_1 = H(b_0 || I2OSP(1, 1) || DST_prime)
  // 9. b_i = H(strxor(b_0, b_(i - 1)) || I2OSP(i, 1) || DST_prime) for i in 2..ell
  const uniform = new Uint8Array(ell * B_IN_BYTES);
  let previous = sha256(b0, Uint8Array.of(1), dstPrime);
  uniform.set(previous, 0);
  for (let i = 2; i <= ell; i++) {
    const xored = b0.map((byte, j) => byte ^ previous[j]!);
    previous = sha256(xored, Uint8Array.of(i), dstPrime);
    uniform.set(previous, (i - 1) * B_IN_BYTES);
  }
  // 10-11. uniform_bytes = b_1 || ... || b_ell, truncated to len_in_bytes
  return uniform.slice(0, lenInBytes);
}

/**
 * RFC 9380 §5.2 hash_to_field(msg, count = 1) into the prime field of order `modulus` (extension degree 1),
 * with expand_message_xmd/SHA-256: OS2IP(expand_message_xmd(msg, DST, L)) mod modulus. RFC 9591 §6.4 and §6.5
 * use it with the group order as the modulus and L = 48 for H1, H2, H3.
 */
export function hashToFieldXmdSha256(msg: Uint8Array, dst: Uint8Array, L: number, modulus: bigint): bigint {
  return bigEndianToBigInt(expandMessageXmdSha256(msg, dst, L)) % modulus;
}
