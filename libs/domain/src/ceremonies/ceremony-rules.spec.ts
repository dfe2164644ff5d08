import { describe, expect, it } from 'vitest';
import { bytesToHex, ceremonyAgreementTranscript, ceremonyRound1Transcript, generateIdentity, getSuite, identitySign, sha256Hex, type SuiteId } from '#crypto';
import type { CeremonyParticipant, SealedRound2 } from '#protocol';
import { DomainError } from '../errors.js';
import {
  assertRound1Package,
  assertRound1Signature,
  assertRound2Shares,
  assertTranscriptSignature,
  dissenters,
  groupKeyMatches,
  resultDigest,
  sortRound1,
} from './ceremony-rules.js';

const codeOf = (f: () => void): string | null => {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
};

function round1(suiteId: SuiteId, n: number, threshold = 2) {
  const suite = getSuite(suiteId);
  const identity = generateIdentity();
  const participant: CeremonyParticipant = { nodeId: crypto.randomUUID(), identifier: suite.identifier(n), identityKey: identity.publicKey };
  const { public: pub } = suite.frost.DKG.round1(participant.identifier, { min: threshold, max: 3 });
  const pkg = { identifier: pub.identifier, commitment: pub.commitment.map(bytesToHex), proofOfKnowledge: bytesToHex(pub.proofOfKnowledge) };
  return { participant, identity, pkg };
}

describe('ceremony rules', () => {
  it('sorts round-1 packages by identifier value, also for little-endian suites', () => {
    const suite = getSuite('ed25519');
    const ids = [256, 1, 3, 2].map((i) => suite.identifier(i));
    // Little-endian: 256 serializes as 0001.., which sorts before 0100.. as a string.
    const packages = ids.map((identifier) => ({ package: { identifier, commitment: [], proofOfKnowledge: '' }, signature: '' }));
    expect(sortRound1('ed25519', packages).map((p) => p.package.identifier)).toEqual([1, 2, 3, 256].map((i) => suite.identifier(i)));
  });

  it('accepts a round-1 package signed for this ceremony only (a replay from another ceremony is BAD_SIGNATURE)', () => {
    const { participant, identity, pkg } = round1('secp256k1', 1);
    const ceremonyA = crypto.randomUUID();
    const ceremonyB = crypto.randomUUID();
    const signed = { package: pkg, signature: identitySign(identity.secretKey, ceremonyRound1Transcript(ceremonyA, pkg)) };
    expect(codeOf(() => assertRound1Signature(ceremonyA, participant, signed))).toBeNull();
    expect(codeOf(() => assertRound1Signature(ceremonyB, participant, signed))).toBe('BAD_SIGNATURE');
    const other = generateIdentity();
    expect(codeOf(() => assertRound1Signature(ceremonyA, { ...participant, identityKey: other.publicKey }, signed))).toBe('BAD_SIGNATURE');
  });

  it('accepts a transcript hash signed by the participant for this ceremony only', () => {
    const { participant, identity } = round1('ed25519', 1);
    const ceremonyId = crypto.randomUUID();
    const hash = sha256Hex('a round-1 view');
    const signature = identitySign(identity.secretKey, ceremonyAgreementTranscript({ ceremonyId, identifier: participant.identifier, transcriptHash: hash }));
    expect(codeOf(() => assertTranscriptSignature(ceremonyId, participant, hash, signature))).toBeNull();
    expect(codeOf(() => assertTranscriptSignature(ceremonyId, participant, sha256Hex('another view'), signature))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => assertTranscriptSignature(crypto.randomUUID(), participant, hash, signature))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => assertTranscriptSignature(ceremonyId, { ...participant, identifier: getSuite('ed25519').identifier(2) }, hash, signature))).toBe('BAD_SIGNATURE');
  });

  it.each(['secp256k1', 'secp256k1-tr', 'ed25519', 'ristretto255', 'p256', 'ed448'] as const)('checks round-1 package shape (%s)', (suiteId) => {
    const { participant, pkg } = round1(suiteId, 2);
    expect(codeOf(() => assertRound1Package(suiteId, 2, participant, pkg))).toBeNull();
    expect(codeOf(() => assertRound1Package(suiteId, 3, participant, pkg))).toBe('CEREMONY_PACKAGE_INVALID');
    expect(codeOf(() => assertRound1Package(suiteId, 2, { ...participant, identifier: getSuite(suiteId).identifier(1) }, pkg))).toBe('IDENTIFIER_MISMATCH');
    expect(codeOf(() => assertRound1Package(suiteId, 2, participant, { ...pkg, proofOfKnowledge: pkg.proofOfKnowledge.slice(2) }))).toBe('CEREMONY_PACKAGE_INVALID');
    const notAnElement = 'ff'.repeat(getSuite(suiteId).elementBytes);
    expect(codeOf(() => assertRound1Package(suiteId, 2, participant, { ...pkg, commitment: [pkg.commitment[0]!, notAnElement] }))).toBe('CEREMONY_PACKAGE_INVALID');
  });

  it('requires exactly one round-2 share from the sender to each other participant', () => {
    const suite = getSuite('secp256k1');
    const [a, b, c] = [1, 2, 3].map((i) => suite.identifier(i)) as [string, string, string];
    const participants = [a, b, c].map((identifier) => ({ nodeId: crypto.randomUUID(), identifier, identityKey: '00'.repeat(32) }));
    const share = (from: string, to: string): SealedRound2 => ({ from, to, ephemeral: '11'.repeat(32), nonce: '22'.repeat(24), ciphertext: '33'.repeat(48) });
    expect(codeOf(() => assertRound2Shares(participants, a, [share(a, b), share(a, c)]))).toBeNull();
    expect(codeOf(() => assertRound2Shares(participants, a, [share(a, b)]))).toBe('CEREMONY_PACKAGE_INVALID');
    expect(codeOf(() => assertRound2Shares(participants, a, [share(a, b), share(a, b)]))).toBe('CEREMONY_PACKAGE_INVALID');
    expect(codeOf(() => assertRound2Shares(participants, a, [share(a, b), share(a, a)]))).toBe('CEREMONY_PACKAGE_INVALID');
    expect(codeOf(() => assertRound2Shares(participants, a, [share(a, b), share(b, c)]))).toBe('CEREMONY_PACKAGE_INVALID');
  });

  it('names the dissenters: against the known value, else outside the plurality, else everyone', () => {
    const r = (nodeId: string, value: string) => ({ nodeId, value });
    expect(dissenters([r('a', 'x'), r('b', 'x'), r('c', 'x')])).toEqual([]);
    expect(dissenters([r('a', 'x'), r('b', 'x'), r('c', 'y')])).toEqual(['c']);
    // The coordinator knows the right value: the single honest node is not outvoted.
    expect(dissenters([r('a', 'x'), r('b', 'y'), r('c', 'y')], 'x')).toEqual(['b', 'c']);
    // The known value is nobody's: fall back to the plurality.
    expect(dissenters([r('a', 'x'), r('b', 'y'), r('c', 'y')], 'z')).toEqual(['a']);
    expect(dissenters([r('a', 'x'), r('b', 'y')])).toEqual(['a', 'b']);
  });

  it('digests results independently of key order and checks the group key encoding', () => {
    const base = { groupPublicKey: '02'.padEnd(66, '1'), commitments: ['02'.padEnd(66, '1'), '03'.padEnd(66, '2')], verifyingShares: { a: '1', b: '2' } };
    expect(resultDigest(base)).toBe(resultDigest({ ...base, verifyingShares: { b: '2', a: '1' } }));
    expect(resultDigest(base)).not.toBe(resultDigest({ ...base, verifyingShares: { a: '1', b: '3' } }));
    expect(groupKeyMatches('secp256k1', base)).toBe(true);
    expect(groupKeyMatches('secp256k1-tr', { ...base, groupPublicKey: base.commitments[0]!.slice(2) })).toBe(true);
    expect(groupKeyMatches('secp256k1', { ...base, groupPublicKey: base.commitments[1]! })).toBe(false);
    // Only the standard encoding: the key as registered, which every result signature must cover.
    expect(groupKeyMatches('secp256k1-tr', base)).toBe(false);
  });
});
