import {
  canonicalJson,
  ceremonyAgreementTranscript,
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  compareIdentifiers,
  CryptoValidationError,
  getSuite,
  identityVerify,
  sha256Hex,
  type SuiteId,
} from '#crypto';
import type { CeremonyParticipant, Round1Package, SealedRound2, SignedRound1 } from '#protocol';
import { DomainError } from '../errors.js';
import type { CeremonyRecord, CeremonyResult } from '../records.js';

/**
 * The pure checks of a key ceremony: what a frame must look like before the coordinator relays it, and
 * whom to blame when participants disagree. No database, no clock.
 */

/** Signed round-1 packages sorted by identifier value (not by string: little-endian suites differ). */
export function sortRound1(suiteId: SuiteId, packages: readonly SignedRound1[]): SignedRound1[] {
  return [...packages].sort((a, b) => compareIdentifiers(suiteId, a.package.identifier, b.package.identifier));
}

/** Throws BAD_SIGNATURE unless the round-1 package is signed by the participant for this ceremony. */
export function assertRound1Signature(ceremonyId: string, participant: CeremonyParticipant, signed: SignedRound1): void {
  if (!identityVerify(participant.identityKey, ceremonyRound1Transcript(ceremonyId, signed.package), signed.signature)) {
    throw new DomainError('BAD_SIGNATURE', `round-1 package is not signed by ${participant.nodeId} for ceremony ${ceremonyId}`);
  }
}

/**
 * Checks a round-1 package's shape against the ceremony: the sender's own identifier, a commitment of
 * `threshold` valid elements, a proof of the suite's signature size with a canonical scalar half.
 * (The proof itself is checked by every participant in round 2, which can name the culprit.)
 */
export function assertRound1Package(suiteId: SuiteId, threshold: number, participant: CeremonyParticipant, pkg: Round1Package): void {
  if (pkg.identifier !== participant.identifier) {
    throw new DomainError('IDENTIFIER_MISMATCH', `the package names identifier ${pkg.identifier}, the sender holds ${participant.identifier}`);
  }
  const suite = getSuite(suiteId);
  try {
    if (pkg.commitment.length !== threshold) {
      throw new CryptoValidationError(`the commitment has ${pkg.commitment.length} elements, the threshold is ${threshold}`);
    }
    pkg.commitment.forEach((c, i) => suite.assertElement(c, `commitment[${i}]`));
    if (pkg.proofOfKnowledge.length !== suite.signatureBytes * 2) {
      throw new CryptoValidationError(`proof of knowledge: expected ${suite.signatureBytes} bytes`);
    }
    suite.assertScalar(pkg.proofOfKnowledge.slice(-suite.scalarBytes * 2), 'proof of knowledge scalar');
  } catch (e) {
    if (e instanceof CryptoValidationError) throw new DomainError('CEREMONY_PACKAGE_INVALID', e.message);
    throw e;
  }
}

/** Throws CEREMONY_PACKAGE_INVALID unless `shares` holds exactly one share from `from` to each other participant. */
export function assertRound2Shares(participants: readonly CeremonyParticipant[], from: string, shares: readonly SealedRound2[]): void {
  const others = new Set(participants.map((p) => p.identifier).filter((id) => id !== from));
  const seen = new Set<string>();
  for (const s of shares) {
    if (s.from !== from) throw new DomainError('CEREMONY_PACKAGE_INVALID', `a share names sender ${s.from}, the sender holds ${from}`);
    if (!others.has(s.to)) throw new DomainError('CEREMONY_PACKAGE_INVALID', `a share is addressed to ${s.to}, not another participant`);
    if (seen.has(s.to)) throw new DomainError('CEREMONY_PACKAGE_INVALID', `two shares are addressed to ${s.to}`);
    seen.add(s.to);
  }
  if (seen.size !== others.size) {
    throw new DomainError('CEREMONY_PACKAGE_INVALID', `expected ${others.size} shares, one per other participant; got ${seen.size}`);
  }
}

/** Throws BAD_SIGNATURE unless `signature` is the participant's identity signature over its transcript hash for this ceremony. */
export function assertTranscriptSignature(ceremonyId: string, participant: CeremonyParticipant, transcriptHash: string, signature: string): void {
  const transcript = ceremonyAgreementTranscript({ ceremonyId, identifier: participant.identifier, transcriptHash });
  if (!identityVerify(participant.identityKey, transcript, signature)) {
    throw new DomainError('BAD_SIGNATURE', `the transcript hash is not signed by ${participant.nodeId} for ceremony ${ceremonyId}`);
  }
}

/** The transcript hash an honest participant computes from the round-1 set the coordinator broadcast. */
export function expectedTranscriptHash(ceremony: Pick<CeremonyRecord, 'id' | 'keyId' | 'suite' | 'threshold' | 'participants' | 'round1'>): string {
  return sha256Hex(
    ceremonyTranscript({
      ceremonyId: ceremony.id,
      keyId: ceremony.keyId,
      suite: ceremony.suite,
      threshold: ceremony.threshold,
      participants: ceremony.participants,
      round1: sortRound1(ceremony.suite, Object.values(ceremony.round1)),
    }),
  );
}

/** Throws BAD_SIGNATURE unless the result is signed by the participant for this ceremony and key. */
export function assertResultSignature(ceremony: Pick<CeremonyRecord, 'id' | 'keyId'>, participant: CeremonyParticipant, result: CeremonyResult): void {
  const transcript = ceremonyResultTranscript({
    ceremonyId: ceremony.id,
    keyId: ceremony.keyId,
    groupPublicKey: result.groupPublicKey,
    commitments: result.commitments,
    verifyingShares: result.verifyingShares,
  });
  if (!identityVerify(participant.identityKey, transcript, result.signature)) {
    throw new DomainError('BAD_SIGNATURE', `the result is not signed by ${participant.nodeId} for ceremony ${ceremony.id}`);
  }
}

/** What a result claims, without its signature: equal digests mean the participants derived the same key. */
export const resultDigest = (r: Omit<CeremonyResult, 'signature'>): string =>
  sha256Hex(canonicalJson({ groupPublicKey: r.groupPublicKey, commitments: r.commitments, verifyingShares: r.verifyingShares }));

/**
 * Whom to blame when participants reported different values: those that differ from `expected` when the
 * coordinator knows the right value and at least one participant reported it; otherwise those outside
 * the largest group (every participant when no value has a strict plurality). [] when all agree.
 */
export function dissenters(reports: readonly { nodeId: string; value: string }[], expected?: string): string[] {
  const values = new Set(reports.map((r) => r.value));
  if (values.size <= 1) return [];
  if (expected !== undefined && values.has(expected)) return reports.filter((r) => r.value !== expected).map((r) => r.nodeId);
  const counts = new Map<string, number>();
  for (const r of reports) counts.set(r.value, (counts.get(r.value) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  if (ranked.length > 1 && ranked[0]![1] === ranked[1]![1]) return reports.map((r) => r.nodeId);
  return reports.filter((r) => r.value !== ranked[0]![0]).map((r) => r.nodeId);
}

/**
 * True when the reported group key is commitments[0] in the suite's standard encoding (the element itself,
 * x-only for secp256k1-tr): exactly the key that gets registered, which `ceremony.closed` carries and over
 * which every participant's result signature must verify.
 */
export function groupKeyMatches(suiteId: SuiteId, result: Pick<CeremonyResult, 'groupPublicKey' | 'commitments'>): boolean {
  const first = result.commitments[0];
  if (first === undefined) return false;
  try {
    return getSuite(suiteId).encodeGroupPublicKey(first) === result.groupPublicKey;
  } catch {
    return false;
  }
}
