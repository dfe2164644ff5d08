import { hexToBytes } from './encoding.js';
import { getSuite, type SuiteId } from './suites.js';

/**
 * True when `share`, the DKG round-2 secret share a participant received, is the sender's committed
 * polynomial evaluated at the recipient's `identifier` (Feldman VSS): Σₖ Cₖ·xᵏ = share·G, with `commitment`
 * the sender's round-1 VSS commitment (hex elements, constant term first). False for a zero or
 * out-of-range share, an invalid element, or an empty commitment; never throws.
 *
 * noble's DKG.round3 checks the same thing but only says that some share failed; checking each share on
 * its own names the sender. The commitment and the identifier are public (variable-time arithmetic is
 * fine); the share is secret and is multiplied in constant time.
 */
export function dkgShareMatchesCommitment(suiteId: SuiteId, identifier: string, share: Uint8Array, commitment: readonly string[]): boolean {
  try {
    const suite = getSuite(suiteId);
    const Point = suite.Point;
    const value = suite.frost.utils.Fn.fromBytes(share);
    if (value === 0n || commitment.length === 0) return false;
    const x = suite.identifierValue(identifier);
    const points = commitment.map((c) => Point.fromBytes(hexToBytes(c)));
    let acc = points[points.length - 1]!;
    for (let k = points.length - 2; k >= 0; k--) acc = acc.multiplyUnsafe(x).add(points[k]!);
    return acc.equals(Point.BASE.multiply(value));
  } catch {
    return false;
  }
}
