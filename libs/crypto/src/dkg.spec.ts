import { describe, expect, it } from 'vitest';
import {
  SUITE_IDS,
  bytesToHex,
  ceremonyAgreementTranscript,
  ceremonyRound1Transcript,
  ceremonyTranscript,
  compareIdentifiers,
  dkgShareMatchesCommitment,
  getSuite,
  utf8,
  type SuiteId,
} from './index.js';

/** A 2-of-3 DKG run to round 2: every participant's commitment and the shares each sent to participant 1. */
function round2(suiteId: SuiteId) {
  const dkg = getSuite(suiteId).frost.DKG;
  const ids = [1, 2, 3].map((i) => getSuite(suiteId).identifier(i));
  const r1 = ids.map((id) => dkg.round1(id, { min: 2, max: 3 }));
  const toMe = r1.slice(1).map((r, i) => {
    const others = r1.filter((x) => x !== r).map((x) => x.public);
    return { from: ids[i + 1]!, share: dkg.round2(r.secret, others)[ids[0]!]!.signingShare, commitment: r.public.commitment.map(bytesToHex) };
  });
  return { ids, toMe };
}

describe('DKG share check against the VSS commitment', () => {
  it.each(SUITE_IDS)("%s: a share on the sender's polynomial passes; another scalar, zero, or a bad commitment does not", (suite) => {
    const { ids, toMe } = round2(suite);
    const [a, b] = toMe as [(typeof toMe)[0], (typeof toMe)[0]];
    expect(dkgShareMatchesCommitment(suite, ids[0]!, a.share, a.commitment)).toBe(true);
    expect(dkgShareMatchesCommitment(suite, ids[0]!, b.share, b.commitment)).toBe(true);
    // the right share checked against the other sender's commitment, or for another recipient
    expect(dkgShareMatchesCommitment(suite, ids[0]!, a.share, b.commitment)).toBe(false);
    expect(dkgShareMatchesCommitment(suite, ids[1]!, a.share, a.commitment)).toBe(false);
    expect(dkgShareMatchesCommitment(suite, ids[0]!, new Uint8Array(a.share.length), a.commitment)).toBe(false);
    expect(dkgShareMatchesCommitment(suite, ids[0]!, a.share, [])).toBe(false);
    expect(dkgShareMatchesCommitment(suite, ids[0]!, a.share, ['ff'.repeat(getSuite(suite).elementBytes), a.commitment[1]!])).toBe(false);
  });
});

describe('identifier order', () => {
  it('orders by scalar value, not by string (little-endian suites)', () => {
    const s = getSuite('ed25519');
    const [one, two, big] = [1, 2, 256].map((i) => s.identifier(i)) as [string, string, string];
    expect(big < one).toBe(true); // as strings, 256 (0001…) sorts first
    expect([big, two, one].sort((x, y) => compareIdentifiers('ed25519', x, y))).toEqual([one, two, big]);
    expect(compareIdentifiers('ed25519', two, two)).toBe(0);
    const k = getSuite('secp256k1');
    expect(compareIdentifiers('secp256k1', k.identifier(2), k.identifier(1))).toBe(1);
  });
});

describe('ceremony transcripts', () => {
  const ceremonyId = '62c5eedd-983e-43a0-9020-232212974bc4';
  it('are the domain tag, a newline and the canonical JSON (sorted keys, no whitespace)', () => {
    const pkg = { proofOfKnowledge: 'cc', identifier: 'aa', commitment: ['bb'] };
    expect(new TextDecoder().decode(ceremonyRound1Transcript(ceremonyId, pkg))).toBe(
      `roundtable/v1/dkg-round1\n{"ceremonyId":"${ceremonyId}","package":{"commitment":["bb"],"identifier":"aa","proofOfKnowledge":"cc"}}`,
    );
    expect(ceremonyAgreementTranscript({ transcriptHash: 'ff', identifier: 'aa', ceremonyId })).toEqual(
      utf8(`roundtable/v1/dkg-agreement\n{"ceremonyId":"${ceremonyId}","identifier":"aa","transcriptHash":"ff"}`),
    );
    const transcript = ceremonyTranscript({ ceremonyId, keyId: ceremonyId, suite: 'ed25519', threshold: 2, participants: [], round1: [] });
    expect(bytesToHex(transcript)).toBe(
      bytesToHex(utf8(`roundtable/v1/dkg-transcript\n{"ceremonyId":"${ceremonyId}","keyId":"${ceremonyId}","participants":[],"round1":[],"suite":"ed25519","threshold":2}`)),
    );
  });
});
