import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBytes, sortCommitments, verifySignatureShare, type CommitmentHex } from '#crypto';
import type { AttemptPackageFrame, RequestProposeFrame } from '#protocol';
import { commitAs } from '../testing/key-fixtures.js';
import { serviceFixture, type ServiceFixture } from '../testing/service-fixture.js';

/**
 * The checks a signer makes before it signs (RFC 9591 §5.2 and the FROST guide's signer rules), each
 * one on its own: a package that fails one is refused with its code and never signed.
 */
describe('the signer checks every package before it signs', () => {
  let f: ServiceFixture;
  beforeEach(async () => {
    f = await serviceFixture();
  });
  afterEach(() => f.close());

  /** Proposes, commits, and returns the node's commitment with a well-formed package naming it and signer 2. */
  const committed = async () => {
    const p: RequestProposeFrame = f.propose();
    const outcome = await f.service.handlePropose(p);
    if (outcome.kind !== 'committed') throw new Error(JSON.stringify(outcome.frame));
    const own = outcome.frame.commitment;
    const pkg: AttemptPackageFrame = f.packageFor(p, own);
    const other = pkg.commitments.find((c) => c.identifier !== own.identifier)!;
    return { p, own, other, pkg };
  };

  it('signs a package that passes every check, with a share that verifies', async () => {
    const { pkg } = await committed();
    const outcome = await f.service.handlePackage(pkg);
    expect(outcome.kind).toBe('signed');
    if (outcome.kind !== 'signed') return;
    expect(verifySignatureShare(f.key.publicPackage, pkg.commitments, hexToBytes(pkg.message), f.share.identifier, outcome.frame.share)).toBe(true);
    // It offers a fresh commitment for the request's next attempt (ROAST).
    expect(outcome.frame.nextCommitment?.identifier).toBe(f.share.identifier);
  });

  const cases: [string, (c: Awaited<ReturnType<typeof committed>>) => Partial<AttemptPackageFrame> | (() => void), string][] = [
    ['a request it never approved', () => ({ requestId: randomUUID() }), 'NOT_PROPOSED'],
    ['another key than the one proposed', () => ({ keyId: randomUUID() }), 'NOT_PROPOSED'],
    ['other bytes than the digest of the intent it approved', () => ({ message: 'cafe00' }), 'MESSAGE_MISMATCH'],
    ['the intent\'s bytes with one byte more', ({ p }) => ({ message: Buffer.from(p.intent.payload.kind === 'text' ? p.intent.payload.text : '').toString('hex') + '00' }), 'MESSAGE_MISMATCH'],
    ["an attempt past its deadline", () => ({ deadline: f.clock.now }), 'DEADLINE_PASSED'],
    ["a request past its deadline", ({ p }) => () => (f.clock.now = p.intent.deadline), 'DEADLINE_PASSED'],
    ['fewer signers than the threshold', ({ own }) => ({ commitments: [own] }), 'SIGNER_SET_SIZE'],
    ['more signers than the key has', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [own, other, commitAs(f.key, 2), { ...commitAs(f.key, 2), identifier: f.key.identifiers[2]! }]) }), 'SIGNER_SET_SIZE'],
    ['the same identifier twice', ({ own }) => ({ commitments: [own, { ...own, hiding: commitAs(f.key, 0).hiding }] }), 'SIGNER_SET_INVALID'],
    ['a list not sorted by identifier value', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [own, other]).reverse() }), 'SIGNER_SET_INVALID'],
    ['an identifier outside the key', ({ own }) => ({ commitments: sortCommitments('secp256k1', [own, { ...commitAs(f.key, 1), identifier: '0'.repeat(63) + '9' }]) }), 'SIGNER_SET_INVALID'],
    ['an invalid element in another signer\'s commitment', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [own, { ...other, binding: '02' + 'ff'.repeat(32) }]) }), 'SIGNER_SET_INVALID'],
    ['no commitment of its own', ({ other }) => ({ commitments: sortCommitments('secp256k1', [other, commitAs(f.key, 2)]) }), 'COMMITMENT_MISSING'],
    ['its commitment altered', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [{ ...own, binding: commitAs(f.key, 0).binding }, other]) }), 'COMMITMENT_ALTERED'],
    ['a commitment it never made', ({ other }) => ({ commitments: sortCommitments('secp256k1', [commitAs(f.key, 0), other]) }), 'NONCE_UNKNOWN'],
  ];
  it.each(cases)('refuses %s (%s)', async (_what, change, code) => {
    const c = await committed();
    const patch = change(c);
    if (typeof patch === 'function') patch();
    const outcome = await f.service.handlePackage({ ...c.pkg, ...(typeof patch === 'function' ? {} : patch) });
    expect(outcome).toMatchObject({ kind: 'refused', frame: { type: 'attempt.refuse', code } });
  });

  it('burns its nonce on a refused package: the same commitment never signs afterwards', async () => {
    const { pkg } = await committed();
    expect((await f.service.handlePackage({ ...pkg, message: 'beef' })).kind).toBe('refused');
    const again = await f.service.handlePackage({ ...pkg, attemptId: randomUUID() });
    expect(again).toMatchObject({ kind: 'refused', frame: { code: 'NONCE_CONSUMED' } });
  });

  it('answers a repeated package with the same share, and a different package for a signed attempt with a refusal', async () => {
    const { pkg, other } = await committed();
    const first = await f.service.handlePackage(pkg);
    const repeat = await f.service.handlePackage(pkg);
    expect(repeat).toMatchObject({ kind: 'signed', replayed: true });
    expect(repeat.frame).toEqual(first.frame);
    const swapped: CommitmentHex[] = sortCommitments('secp256k1', [pkg.commitments.find((c) => c.identifier === f.share.identifier)!, { ...other, hiding: commitAs(f.key, 1).hiding }]);
    expect(await f.service.handlePackage({ ...pkg, commitments: swapped })).toMatchObject({ kind: 'refused', frame: { code: 'NONCE_CONSUMED' } });
  });

  it('signs a second attempt of the request with the next commitment only, never with the first again', async () => {
    const { pkg, other } = await committed();
    const first = await f.service.handlePackage(pkg);
    if (first.kind !== 'signed') throw new Error('not signed');
    const next = first.frame.nextCommitment!;
    const second = await f.service.handlePackage({ ...pkg, attemptId: randomUUID(), commitments: sortCommitments('secp256k1', [next, { ...commitAs(f.key, 1), identifier: other.identifier }]) });
    expect(second.kind).toBe('signed');
    const reuse = await f.service.handlePackage({ ...pkg, attemptId: randomUUID() });
    expect(reuse).toMatchObject({ kind: 'refused', frame: { code: 'NONCE_CONSUMED' } });
  });

  it('declines a proposal for a key it does not hold, or of another suite or threshold, or already expired', async () => {
    expect(await f.service.handlePropose(f.propose({ keyId: randomUUID() }))).toMatchObject({ kind: 'declined', frame: { code: 'KEY_NOT_HELD' } });
    expect(await f.service.handlePropose(f.propose({}, { suite: 'ed25519' }))).toMatchObject({ kind: 'declined', frame: { code: 'SUITE_MISMATCH' } });
    expect(await f.service.handlePropose(f.propose({}, { threshold: 3 }))).toMatchObject({ kind: 'declined', frame: { code: 'SUITE_MISMATCH' } });
    expect(await f.service.handlePropose(f.propose({ deadline: f.clock.now }))).toMatchObject({ kind: 'declined', frame: { code: 'DEADLINE_PASSED' } });
  });
});
