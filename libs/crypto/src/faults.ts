import { randomBytes } from 'node:crypto';
import { bytesToHex, hexToBytes } from './encoding.js';
import { getSuite, type SuiteId } from './suites.js';

/**
 * Deliberately wrong values, for fault injection and tests: what a misbehaving signer would send. They are
 * made here so that no group arithmetic lives outside libs/crypto.
 */

/** A uniformly random non-zero scalar of the suite, hex (a share nobody made). */
export function randomScalarHex(suiteId: SuiteId): string {
  const Fn = getSuite(suiteId).frost.utils.Fn;
  return bytesToHex(Fn.toBytes(randomScalar(suiteId)));
}

function randomScalar(suiteId: SuiteId): bigint {
  const Fn = getSuite(suiteId).frost.utils.Fn;
  for (;;) {
    const x = Fn.create(BigInt(`0x${randomBytes(Fn.BYTES + 16).toString('hex')}`));
    if (!Fn.is0(x)) return x;
  }
}

/** A uniformly random valid group element whose discrete log nobody keeps (a fake nonce commitment). */
export function randomGroupElement(suiteId: SuiteId): string {
  return bytesToHex(getSuite(suiteId).Point.BASE.multiply(randomScalar(suiteId)).toBytes(true));
}

/** A well-formed signature share that is not the signer's: `share + 1` in the suite's scalar field. */
export function offByOneShare(suiteId: SuiteId, shareHex: string): string {
  const Fn = getSuite(suiteId).frost.utils.Fn;
  return bytesToHex(Fn.toBytes(Fn.add(Fn.fromBytes(hexToBytes(shareHex)), Fn.ONE)));
}
