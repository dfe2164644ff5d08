import { getSuite, type SuiteId } from './suites.js';

/**
 * Orders two FROST identifiers of `suite` by their scalar value, the order RFC 9591 (§4.3) prescribes
 * for commitment lists and every list this project sorts by participant. Not string order: the
 * little-endian suites (ed25519, ristretto255, ed448) serialize 256 as `0001…`, which sorts before `0100…`.
 * The one identifier comparator of the project; throws (noble's error) when either is not a scalar of the suite.
 */
export function compareIdentifiers(suite: SuiteId, a: string, b: string): number {
  const s = getSuite(suite);
  const x = s.identifierValue(a);
  const y = s.identifierValue(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
