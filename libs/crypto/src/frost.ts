import { randomBytes } from 'node:crypto';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import type { FrostPublic, Nonces } from '@noble/curves/abstract/frost.js';
import { bytesToHex, hexToBytes } from './encoding.js';
import { compareIdentifiers } from './identifiers.js';
import { CryptoValidationError, getSuite, type Suite, type SuiteId, type SuitePoint } from './suites.js';

/** A public nonce commitment, hex-encoded (the wire form). */
export interface CommitmentHex {
  identifier: string;
  hiding: string;
  binding: string;
}

/**
 * The public half of a threshold key: everything a coordinator or verifier may hold.
 * `commitments[0]` is the group public key as a group element (noble's VSS commitment vector); use
 * `groupPublicKey(pkg)` for the suite's standard encoding (x-only for secp256k1-tr).
 */
export interface PublicKeyPackage {
  suite: SuiteId;
  threshold: number;
  maxSigners: number;
  commitments: string[];
  verifyingShares: Record<string, string>;
}

/**
 * The group public key in the suite's standard encoding: the serialized element for RFC 9591 suites,
 * the 32-byte x-only BIP340 key for secp256k1-tr. This is what `Suite.verify` takes.
 */
export const groupPublicKey = (pkg: PublicKeyPackage): string => {
  const key = pkg.commitments[0];
  if (key === undefined) throw new CryptoValidationError('public package has no group key');
  return getSuite(pkg.suite).encodeGroupPublicKey(key);
};

export function toNoblePublic(pkg: PublicKeyPackage): FrostPublic {
  return {
    signers: { min: pkg.threshold, max: pkg.maxSigners },
    commitments: pkg.commitments.map(hexToBytes),
    verifyingShares: Object.fromEntries(Object.entries(pkg.verifyingShares).map(([id, v]) => [id, hexToBytes(v)])),
  };
}

const commitmentToNoble = (c: CommitmentHex) => ({
  identifier: c.identifier,
  hiding: hexToBytes(c.hiding),
  binding: hexToBytes(c.binding),
});

/**
 * Checks a public key package as the coordinator receives it: sizes, every element valid, identifiers
 * distinct and non-zero, and each verifying share consistent with the VSS commitments.
 */
export function assertValidPublicPackage(pkg: PublicKeyPackage): void {
  const suite = getSuite(pkg.suite);
  const ids = Object.keys(pkg.verifyingShares);
  if (!Number.isInteger(pkg.threshold) || pkg.threshold < 2) throw new CryptoValidationError('threshold must be at least 2');
  if (pkg.maxSigners < pkg.threshold) throw new CryptoValidationError('maxSigners must be at least the threshold');
  if (ids.length !== pkg.maxSigners) throw new CryptoValidationError('one verifying share per participant is required');
  if (pkg.commitments.length !== pkg.threshold) {
    throw new CryptoValidationError('the VSS commitment must have threshold coefficients');
  }
  pkg.commitments.forEach((c, i) => suite.assertElement(c, `commitments[${i}]`));
  const seen = new Set<bigint>();
  for (const id of ids) {
    let value: bigint;
    try {
      value = suite.identifierValue(id);
    } catch {
      throw new CryptoValidationError(`identifier ${id} is not a valid scalar`);
    }
    if (value === 0n) throw new CryptoValidationError('identifier zero is not allowed');
    if (seen.has(value)) throw new CryptoValidationError(`identifier ${id} appears twice`);
    seen.add(value);
    suite.assertElement(pkg.verifyingShares[id]!, `verifyingShares[${id}]`);
  }
  // Each verifying share must be the VSS commitment evaluated at its identifier (RFC 9591 App. C.2).
  const pub = toNoblePublic(pkg);
  const commitments = pub.commitments.map((c) => suite.Point.fromBytes(c));
  if (verifyingSharesMatchInBatch(suite, commitments, pub.verifyingShares)) return;
  for (const id of ids) {
    if (!verifyingShareMatches(suite, commitments, pub.verifyingShares[id]!, id)) {
      throw new CryptoValidationError(`verifying share of ${id} does not match the VSS commitment`);
    }
  }
}

/**
 * All verifying shares at once: with random 128-bit weights r_i, sum_i r_i*Y_i == sum_k C_k*(sum_i r_i*x_i^k)
 * holds for every share consistent with the VSS commitment, and fails with probability 1 - 2^-128 if one
 * is not. Two multi-scalar multiplications (noble's) instead of n*t point multiplications. A false result
 * (or any doubt) sends the caller to the per-identifier check, which names the culprit.
 */
function verifyingSharesMatchInBatch(suite: Suite, commitments: readonly SuitePoint[], verifyingShares: Record<string, Uint8Array>): boolean {
  const Fn = suite.frost.utils.Fn;
  const ids = Object.keys(verifyingShares);
  const weights = ids.map(() => BigInt(`0x${bytesToHex(randomBytes(16))}`) + 1n);
  const sums = commitments.map(() => 0n);
  ids.forEach((id, i) => {
    const x = suite.identifierValue(id);
    let power = weights[i]!;
    for (let k = 0; k < sums.length; k++) {
      sums[k] = Fn.add(sums[k]!, power);
      power = Fn.mul(power, x);
    }
  });
  if (sums.some((v) => v === 0n)) return false;
  try {
    const left = mulAddUnsafe(suite.Point as never, ids.map((id) => suite.Point.fromBytes(verifyingShares[id]!)) as never[], weights) as SuitePoint;
    const right = mulAddUnsafe(suite.Point as never, [...commitments] as never[], sums) as SuitePoint;
    return left.equals(right);
  } catch {
    return false;
  }
}

function verifyingShareMatches(suite: Suite, commitments: readonly SuitePoint[], verifyingShare: Uint8Array, id: string): boolean {
  // noble's validateSecret does this check for a secret; for a public share we use the same algebra
  // through noble's Point API: sum_k C_k * id^k == verifyingShare, evaluated by Horner's rule. Everything
  // here is public, so the variable-time multiplication is safe; with identifiers 1..n it is also cheap.
  const Point = suite.Point;
  const x = suite.identifierValue(id);
  let acc = commitments[commitments.length - 1]!;
  for (let k = commitments.length - 2; k >= 0; k--) acc = acc.multiplyUnsafe(x).add(commitments[k]!);
  return acc.equals(Point.fromBytes(verifyingShare));
}

/** Sorts commitments ascending by the identifier's scalar value (RFC 9591 §4.3), not by string. */
export function sortCommitments<C extends { identifier: string }>(suiteId: SuiteId, list: readonly C[]): C[] {
  return [...list].sort((a, b) => compareIdentifiers(suiteId, a.identifier, b.identifier));
}

/** Checks one commitment: identifier is a member of the key, both elements valid. Names what failed. */
export function assertValidCommitment(pkg: PublicKeyPackage, c: CommitmentHex): void {
  const suite = getSuite(pkg.suite);
  if (!(c.identifier in pkg.verifyingShares)) {
    throw new CryptoValidationError(`identifier ${c.identifier} is not a participant of the key`);
  }
  suite.assertElement(c.hiding, 'hiding commitment');
  suite.assertElement(c.binding, 'binding commitment');
  if (c.hiding === c.binding) throw new CryptoValidationError('hiding and binding commitments are equal');
}

/**
 * Checks a signer set as both the coordinator and each signer must (RFC 9591 §5): size within
 * [threshold, maxSigners], identifiers distinct, members of the key, sorted by scalar value.
 */
export function assertValidSignerSet(pkg: PublicKeyPackage, list: readonly CommitmentHex[]): void {
  if (list.length < pkg.threshold || list.length > pkg.maxSigners) {
    throw new CryptoValidationError(`signer set has ${list.length} entries, outside [${pkg.threshold}, ${pkg.maxSigners}]`);
  }
  let previous: string | undefined;
  for (const c of list) {
    assertValidCommitment(pkg, c);
    const order = previous === undefined ? 1 : compareIdentifiers(pkg.suite, c.identifier, previous);
    if (order === 0) throw new CryptoValidationError(`identifier ${c.identifier} appears twice`);
    if (order < 0) throw new CryptoValidationError('commitments are not sorted by identifier');
    previous = c.identifier;
  }
}

export type AggregateResult =
  | { ok: true; signature: string }
  | { ok: false; culprits: { identifier: string; reason: 'malformed_share' | 'invalid_share' }[]; message: string };

/**
 * Aggregates and verifies (RFC 9591 §5.3) on the optimistic path; when that fails, verifies each share
 * to name every culprit (§5.4). Never throws for bad shares: every failure names the identifiers at fault.
 */
export function aggregateOrBlame(
  pkg: PublicKeyPackage,
  commitments: readonly CommitmentHex[],
  message: Uint8Array,
  shares: Record<string, string>,
): AggregateResult {
  const suite = getSuite(pkg.suite);
  const culprits: { identifier: string; reason: 'malformed_share' | 'invalid_share' }[] = [];
  for (const c of commitments) {
    const share = shares[c.identifier];
    if (share === undefined) {
      return { ok: false, culprits: [], message: `missing share for ${c.identifier}` };
    }
    try {
      suite.assertScalar(share, 'signature share');
    } catch {
      culprits.push({ identifier: c.identifier, reason: 'malformed_share' });
    }
  }
  if (culprits.length > 0) return { ok: false, culprits, message: 'malformed signature shares' };
  const pub = toNoblePublic(pkg);
  const list = commitments.map(commitmentToNoble);
  const sigShares = Object.fromEntries(commitments.map((c) => [c.identifier, hexToBytes(shares[c.identifier]!)]));
  try {
    const signature = suite.frost.aggregate(pub, list, message, sigShares);
    const hex = bytesToHex(signature);
    if (!suite.verify(hex, message, groupPublicKey(pkg))) {
      return { ok: false, culprits: [], message: 'aggregate signature does not verify' };
    }
    return { ok: true, signature: hex };
  } catch {
    for (const c of commitments) {
      if (!verifySignatureShare(pkg, commitments, message, c.identifier, shares[c.identifier]!)) {
        culprits.push({ identifier: c.identifier, reason: 'invalid_share' });
      }
    }
    return { ok: false, culprits, message: culprits.length > 0 ? 'invalid signature shares' : 'aggregation failed' };
  }
}

/**
 * Verifies one signature share against its signer's verifying share (RFC 9591 §5.4). Returns false,
 * never throws, for a malformed or invalid share. Costs one group-commitment computation (O(t)).
 */
export function verifySignatureShare(
  pkg: PublicKeyPackage,
  commitments: readonly CommitmentHex[],
  message: Uint8Array,
  identifier: string,
  shareHex: string,
): boolean {
  const suite = getSuite(pkg.suite);
  try {
    suite.assertScalar(shareHex, 'signature share');
    return suite.frost.verifyShare(toNoblePublic(pkg), commitments.map(commitmentToNoble), message, identifier, hexToBytes(shareHex));
  } catch {
    return false;
  }
}

// ---------- signer side ----------

/** A trusted-dealer key: the public package and one secret signing share per identifier (hex). */
export interface DealtKey {
  public: PublicKeyPackage;
  secretShares: Record<string, string>;
}

/** Trusted-dealer key generation (RFC 9591 App. C) for identifiers 1..n. */
export function dealKey(suiteId: SuiteId, threshold: number, maxSigners: number): DealtKey {
  const suite = getSuite(suiteId);
  const ids = Array.from({ length: maxSigners }, (_, i) => suite.identifier(i + 1));
  const dealt = suite.frost.trustedDealer({ min: threshold, max: maxSigners }, ids);
  return {
    public: {
      suite: suiteId,
      threshold,
      maxSigners,
      commitments: dealt.public.commitments.map(bytesToHex),
      verifyingShares: Object.fromEntries(Object.entries(dealt.public.verifyingShares).map(([k, v]) => [k, bytesToHex(v)])),
    },
    secretShares: Object.fromEntries(Object.entries(dealt.secretShares).map(([k, s]) => [k, bytesToHex(s.signingShare)])),
  };
}

/** Throws unless the secret share is consistent with the public package (RFC 9591 App. C.2). */
export function assertShareMatchesPublic(pkg: PublicKeyPackage, identifier: string, signingShareHex: string): void {
  const suite = getSuite(pkg.suite);
  try {
    suite.frost.validateSecret({ identifier, signingShare: hexToBytes(signingShareHex) }, toNoblePublic(pkg));
  } catch (e) {
    throw new CryptoValidationError(`secret share does not match the public package: ${(e as Error).message}`);
  }
}

/** Fresh nonces (RFC 9591 §5.1, randomness plus the secret share) and their public commitment. */
export function commit(
  suiteId: SuiteId,
  identifier: string,
  signingShareHex: string,
): { nonces: Nonces; commitment: CommitmentHex } {
  const suite = getSuite(suiteId);
  const { nonces, commitments } = suite.frost.commit({ identifier, signingShare: hexToBytes(signingShareHex) });
  return {
    nonces,
    commitment: { identifier, hiding: bytesToHex(commitments.hiding), binding: bytesToHex(commitments.binding) },
  };
}

/** Signs with `nonces`; noble zeroes them in place, so the same object can never sign twice. */
export function signShare(
  pkg: PublicKeyPackage,
  identifier: string,
  signingShareHex: string,
  nonces: Nonces,
  commitments: readonly CommitmentHex[],
  message: Uint8Array,
): string {
  const suite = getSuite(pkg.suite);
  const share = suite.frost.signShare(
    { identifier, signingShare: hexToBytes(signingShareHex) },
    toNoblePublic(pkg),
    nonces,
    commitments.map(commitmentToNoble),
    message,
  );
  return bytesToHex(share);
}

/** Zeroes nonce scalars in place (after a failed or abandoned attempt). */
export function wipeNonces(nonces: Nonces): void {
  nonces.hiding.fill(0);
  nonces.binding.fill(0);
}
