import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBytes, sortCommitments, verifySignatureShare, type CommitmentHex } from '#crypto';
import type { AttemptPackageFrame, RequestProposeFrame } from '#protocol';
import type { KeyShare } from '../keystore/keystore-records.js';
import { NonceStore } from '../nonces/nonce-store.js';
import { commitAs, dealTestKey, tempDir, testJournalLocation, type DealtTestKey } from '../testing/key-fixtures.js';
import { SigningService } from './signing-service.js';

/**
 * The checks a signer makes before it signs (RFC 9591 §5.2 and the FROST guide's signer rules), each
 * one on its own: a package that fails one is refused with its code and never signed.
 */
describe('the signer checks every package before it signs', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let key: DealtTestKey;
  let share: KeyShare;
  let nonces: NonceStore;
  let service: SigningService;
  let now: number;

  beforeEach(async () => {
    dir = await tempDir();
    key = await dealTestKey(dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 0 });
    const identifier = key.identifiers[0]!;
    share = { keyId: key.keyId, suite: key.suite, identifier, signingShare: key.secretShares[identifier]!, publicPackage: key.publicPackage };
    nonces = await NonceStore.open(await testJournalLocation(join(dir.path, 'nonces.jsonl')));
    now = 1_000_000;
    service = new SigningService({
      shares: { findShare: (keyId) => Promise.resolve(keyId === key.keyId ? share : null) },
      nonces,
      policy: { kind: 'approve-all' },
      now: () => now,
    });
  });
  afterEach(async () => {
    await nonces.close();
    await dir.cleanup();
  });

  const proposal = (over: Partial<RequestProposeFrame> = {}): RequestProposeFrame => ({
    v: 1,
    type: 'request.propose',
    requestId: randomUUID(),
    keyId: key.keyId,
    suite: 'secp256k1',
    threshold: 2,
    message: 'cafe',
    messageEncoding: 'hex',
    description: 'test',
    deadline: now + 60_000,
    ...over,
  });
  /** Proposes, commits, and returns the node's commitment with a well-formed package naming it and signer 2. */
  const committed = async () => {
    const p = proposal();
    const outcome = await service.handlePropose(p);
    if (outcome.kind !== 'committed') throw new Error(outcome.frame.reason);
    const own = outcome.frame.commitment;
    const other = commitAs(key, 1);
    const pkg: AttemptPackageFrame = {
      v: 1,
      type: 'attempt.package',
      requestId: p.requestId,
      attemptId: randomUUID(),
      keyId: key.keyId,
      message: p.message,
      commitments: sortCommitments('secp256k1', [own, other]),
      deadline: p.deadline,
    };
    return { p, own, other, pkg };
  };

  it('signs a package that passes every check, with a share that verifies', async () => {
    const { pkg } = await committed();
    const outcome = await service.handlePackage(pkg);
    expect(outcome.kind).toBe('signed');
    if (outcome.kind !== 'signed') return;
    expect(verifySignatureShare(key.publicPackage, pkg.commitments, hexToBytes(pkg.message), share.identifier, outcome.frame.share)).toBe(true);
    // It offers a fresh commitment for the request's next attempt (ROAST).
    expect(outcome.frame.nextCommitment?.identifier).toBe(share.identifier);
  });

  const cases: [string, (c: Awaited<ReturnType<typeof committed>>) => Partial<AttemptPackageFrame> | (() => void), string][] = [
    ['a request it never approved', () => ({ requestId: randomUUID() }), 'NOT_PROPOSED'],
    ['another key than the one proposed', () => ({ keyId: randomUUID() }), 'NOT_PROPOSED'],
    ['other bytes than the ones approved', () => ({ message: 'cafe00' }), 'MESSAGE_MISMATCH'],
    ["an attempt past its deadline", () => ({ deadline: now }), 'DEADLINE_PASSED'],
    ["a request past its deadline", ({ p }) => () => (now = p.deadline), 'DEADLINE_PASSED'],
    ['fewer signers than the threshold', ({ own }) => ({ commitments: [own] }), 'SIGNER_SET_SIZE'],
    ['more signers than the key has', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [own, other, commitAs(key, 2), { ...commitAs(key, 2), identifier: key.identifiers[2]! }]) }), 'SIGNER_SET_SIZE'],
    ['the same identifier twice', ({ own }) => ({ commitments: [own, { ...own, hiding: commitAs(key, 0).hiding }] }), 'SIGNER_SET_INVALID'],
    ['a list not sorted by identifier value', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [own, other]).reverse() }), 'SIGNER_SET_INVALID'],
    ['an identifier outside the key', ({ own }) => ({ commitments: sortCommitments('secp256k1', [own, { ...commitAs(key, 1), identifier: '0'.repeat(63) + '9' }]) }), 'SIGNER_SET_INVALID'],
    ['an invalid element in another signer\'s commitment', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [own, { ...other, binding: '02' + 'ff'.repeat(32) }]) }), 'SIGNER_SET_INVALID'],
    ['no commitment of its own', ({ other }) => ({ commitments: sortCommitments('secp256k1', [other, commitAs(key, 2)]) }), 'COMMITMENT_MISSING'],
    ['its commitment altered', ({ own, other }) => ({ commitments: sortCommitments('secp256k1', [{ ...own, binding: commitAs(key, 0).binding }, other]) }), 'COMMITMENT_ALTERED'],
    ['a commitment it never made', ({ other }) => ({ commitments: sortCommitments('secp256k1', [commitAs(key, 0), other]) }), 'NONCE_UNKNOWN'],
  ];
  it.each(cases)('refuses %s (%s)', async (_what, change, code) => {
    const c = await committed();
    const patch = change(c);
    if (typeof patch === 'function') patch();
    const outcome = await service.handlePackage({ ...c.pkg, ...(typeof patch === 'function' ? {} : patch) });
    expect(outcome).toMatchObject({ kind: 'refused', frame: { type: 'attempt.refuse', code } });
  });

  it('burns its nonce on a refused package: the same commitment never signs afterwards', async () => {
    const { pkg } = await committed();
    expect((await service.handlePackage({ ...pkg, message: 'beef' })).kind).toBe('refused');
    const again = await service.handlePackage({ ...pkg, attemptId: randomUUID() });
    expect(again).toMatchObject({ kind: 'refused', frame: { code: 'NONCE_CONSUMED' } });
  });

  it('answers a repeated package with the same share, and a different package for a signed attempt with a refusal', async () => {
    const { pkg, other } = await committed();
    const first = await service.handlePackage(pkg);
    const repeat = await service.handlePackage(pkg);
    expect(repeat).toMatchObject({ kind: 'signed', replayed: true });
    expect(repeat.frame).toEqual(first.frame);
    const swapped: CommitmentHex[] = sortCommitments('secp256k1', [pkg.commitments.find((c) => c.identifier === share.identifier)!, { ...other, hiding: commitAs(key, 1).hiding }]);
    expect(await service.handlePackage({ ...pkg, commitments: swapped })).toMatchObject({ kind: 'refused', frame: { code: 'NONCE_CONSUMED' } });
  });

  it('signs a second attempt of the request with the next commitment only, never with the first again', async () => {
    const { pkg, other } = await committed();
    const first = await service.handlePackage(pkg);
    if (first.kind !== 'signed') throw new Error('not signed');
    const next = first.frame.nextCommitment!;
    const second = await service.handlePackage({ ...pkg, attemptId: randomUUID(), commitments: sortCommitments('secp256k1', [next, { ...commitAs(key, 1), identifier: other.identifier }]) });
    expect(second.kind).toBe('signed');
    const reuse = await service.handlePackage({ ...pkg, attemptId: randomUUID() });
    expect(reuse).toMatchObject({ kind: 'refused', frame: { code: 'NONCE_CONSUMED' } });
  });

  it('declines a proposal for a key it does not hold, or of another suite or threshold, or already expired', async () => {
    expect(await service.handlePropose(proposal({ keyId: randomUUID() }))).toMatchObject({ kind: 'declined', frame: { code: 'KEY_NOT_HELD' } });
    expect(await service.handlePropose(proposal({ suite: 'ed25519' }))).toMatchObject({ kind: 'declined', frame: { code: 'SUITE_MISMATCH' } });
    expect(await service.handlePropose(proposal({ threshold: 3 }))).toMatchObject({ kind: 'declined', frame: { code: 'SUITE_MISMATCH' } });
    expect(await service.handlePropose(proposal({ deadline: now }))).toMatchObject({ kind: 'declined', frame: { code: 'DEADLINE_PASSED' } });
  });

  it('declines a second, different proposal under the id of one it approved', async () => {
    const p = proposal();
    expect((await service.handlePropose(p)).kind).toBe('committed');
    expect(await service.handlePropose({ ...p, message: 'beef' })).toMatchObject({ kind: 'declined', frame: { code: 'MESSAGE_MISMATCH' } });
  });
});
