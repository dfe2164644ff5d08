import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SUITE_IDS,
  aggregateOrBlame,
  bytesToHex,
  ceremonyAgreementTranscript,
  ceremonyResultTranscript,
  ceremonyRound1Transcript,
  commit,
  generateIdentity,
  getSuite,
  identitySign,
  hexToBytes,
  identityVerify,
  round2AssociatedData,
  signShare,
  sortCommitments,
  utf8,
  type SuiteId,
} from '#crypto';
import type { CeremonyResultFrame, SignedRound1 } from '#protocol';
import { sealBetweenIdentities } from '../keystore/sealed-share.js';
import { ROUND2_SEALING_INFO } from './ceremony-participant.js';
import {
  CeremonyTestbed,
  abortOf,
  completedClose,
  proposal,
  round1,
  round1All,
  round2,
  round2AllFor,
  runCeremony,
  signedHashOf,
  sortSigned,
  startFrame,
  waitFor,
  type TestNode,
} from '../testing/ceremony-fixtures.js';
import { openTestKeystore } from '../testing/key-fixtures.js';

let bed: CeremonyTestbed;
const startNodes = (count: number, options: { refuse?: number[] } = {}): Promise<TestNode[]> => bed.startNodes(count, options);

beforeEach(async () => {
  bed = await CeremonyTestbed.create();
});

afterEach(async () => {
  await bed.close();
});

describe('distributed key generation (signer side)', () => {
  it.each(SUITE_IDS)('runs a 2-of-3 ceremony for %s; the stored shares sign for the reported group key', async (suite) => {
    const group = await startNodes(3);
    const start = startFrame(suite, group);
    const { r2, res } = await runCeremony(group, start);

    // every node computed the same transcript hash and derived the same public key material
    expect(new Set(r2.map((f) => f.transcriptHash)).size).toBe(1);
    const strip = ({ signature: _s, ...rest }: CeremonyResultFrame) => rest;
    expect(strip(res[1]!)).toEqual(strip(res[0]!));
    expect(strip(res[2]!)).toEqual(strip(res[0]!));
    const groupKey = res[0]!.groupPublicKey;
    expect(groupKey).toHaveLength(getSuite(suite).groupPublicKeyBytes * 2);
    res.forEach((f, i) => {
      const transcript = ceremonyResultTranscript({
        ceremonyId: start.ceremonyId,
        keyId: start.keyId,
        groupPublicKey: f.groupPublicKey,
        commitments: f.commitments,
        verifyingShares: f.verifyingShares,
      });
      expect(identityVerify(start.participants[i]!.identityKey, transcript, f.signature)).toBe(true);
    });

    for (const n of group) n.conn.send(completedClose(start, res));
    await waitFor(() => group.every((n) => n.events.some((e) => e.name === 'ceremony-completed')));
    for (const n of group) {
      expect(n.events.find((e) => e.name === 'ceremony-completed')?.payload).toEqual({
        ceremonyId: start.ceremonyId,
        keyId: start.keyId,
        groupPublicKey: groupKey,
      });
    }

    for (const n of group) expect(await (await openTestKeystore(n.dir)).listPending()).toEqual([]);

    // the stored shares sign (any 2 of 3) a message that verifies against the reported group key
    const shares = await Promise.all(group.map(async (n) => (await openTestKeystore(n.dir)).readShare(start.keyId)));
    const message = utf8(`dkg ${suite}`);
    for (const signers of [
      [0, 1],
      [1, 2],
      [0, 2],
    ]) {
      const made = signers.map((i) => ({ i, ...commit(suite, shares[i]!.identifier, shares[i]!.signingShare) }));
      const commitments = sortCommitments(
        suite,
        made.map((m) => m.commitment),
      );
      const sigShares = Object.fromEntries(
        made.map((m) => [
          m.commitment.identifier,
          signShare(shares[m.i]!.publicPackage, shares[m.i]!.identifier, shares[m.i]!.signingShare, m.nonces, commitments, message),
        ]),
      );
      const aggregated = aggregateOrBlame(shares[0]!.publicPackage, commitments, message, sigShares);
      expect(aggregated.ok).toBe(true);
      if (!aggregated.ok) return;
      expect(getSuite(suite).verify(aggregated.signature, message, groupKey)).toBe(true);
    }

    // the keystore on disk never holds a share in plaintext
    for (const [i, n] of group.entries()) {
      const secret = shares[i]!.signingShare;
      const raw = Buffer.from(hexToBytes(secret));
      for (const file of await listFiles(n.dir)) {
        const bytes = await readFile(file);
        expect(bytes.includes(Buffer.from(secret))).toBe(false);
        expect(bytes.includes(raw)).toBe(false);
        expect(bytes.includes(Buffer.from(raw.toString('base64')))).toBe(false);
      }
    }
  });

  it('refuses a round-1 package signed for another ceremony (a replay): BAD_SIGNATURE naming it', async () => {
    const group = await startNodes(3);
    const earlier = startFrame('ed25519', group);
    const old = await round1(group, earlier);
    for (const n of group) n.conn.send({ type: 'ceremony.closed', ceremonyId: earlier.ceremonyId, status: 'failed', reason: 'test' });

    const start = startFrame('ed25519', group);
    const fresh = await round1(group, start);
    // participant 3's package from the earlier ceremony: its proof of knowledge still verifies
    const packages = sortSigned('ed25519', [fresh[0]!.round1, fresh[1]!.round1, old[2]!.round1]);
    group[0]!.conn.send(round1All(start, packages));
    const abort = await abortOf(group[0]!);
    expect(abort).toMatchObject({ ceremonyId: start.ceremonyId, code: 'BAD_SIGNATURE', culprit: start.participants[2]!.identifier });
    expect(group[0]!.events.at(-1)).toMatchObject({
      name: 'ceremony-aborted',
      payload: { ceremonyId: start.ceremonyId, code: 'BAD_SIGNATURE', culprit: start.participants[2]!.identifier },
    });
  });

  it("refuses a round-1 set missing the node's own package, or with it altered", async () => {
    const group = await startNodes(3);
    const start = startFrame('secp256k1', group);
    const r1 = await round1(group, start);

    group[0]!.conn.send(round1All(start, sortSigned('secp256k1', [r1[1]!.round1, r1[2]!.round1])));
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'TRANSCRIPT_MISMATCH' });

    const own = r1[1]!.round1;
    const altered: SignedRound1 = {
      ...own,
      package: { ...own.package, commitment: [r1[2]!.round1.package.commitment[0]!, ...own.package.commitment.slice(1)] },
    };
    group[1]!.conn.send(round1All(start, sortSigned('secp256k1', [r1[0]!.round1, altered, r1[2]!.round1])));
    expect(await abortOf(group[1]!)).toMatchObject({ code: 'TRANSCRIPT_MISMATCH' });
  });

  it('refuses a round-2 set whose transcript hash is not its own: TRANSCRIPT_MISMATCH', async () => {
    const group = await startNodes(3);
    const start = startFrame('p256', group);
    const r1 = await round1(group, start);
    const r2 = await round2(group, start, r1);
    const frame = { ...round2AllFor(start, 0, r2), transcriptHash: 'ab'.repeat(32) };
    group[0]!.conn.send(frame);
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'TRANSCRIPT_MISMATCH' });
  });

  it('refuses a tampered sealed share: UNDECRYPTABLE_SHARE naming the sender', async () => {
    const group = await startNodes(3);
    const start = startFrame('ristretto255', group);
    const r1 = await round1(group, start);
    const r2 = await round2(group, start, r1);
    const frame = round2AllFor(start, 0, r2);
    const sender = start.participants[1]!.identifier;
    frame.shares = frame.shares.map((s) => {
      if (s.from !== sender) return s;
      const bytes = hexToBytes(s.ciphertext);
      bytes[0]! ^= 1;
      return { ...s, ciphertext: bytesToHex(bytes) };
    });
    group[0]!.conn.send(frame);
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'UNDECRYPTABLE_SHARE', culprit: sender });
  });

  it('refuses a share sealed by someone other than its sender (the relaying coordinator)', async () => {
    const group = await startNodes(3);
    const start = startFrame('ed25519', group);
    const r1 = await round1(group, start);
    const r2 = await round2(group, start, r1);
    // node 3's share for node 2 relabelled as node 3's share for node 1: the sealing binds both ends
    const frame = round2AllFor(start, 0, r2);
    const other = r2[2]!.shares.find((s) => s.to === start.participants[1]!.identifier)!;
    frame.shares = frame.shares.map((s) => (s.from === other.from ? { ...other, to: s.to } : s));
    group[0]!.conn.send(frame);
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'UNDECRYPTABLE_SHARE', culprit: other.from });
  });

  it('refuses every ceremony when the operator refuses them: PARAMETERS_REFUSED', async () => {
    const group = await startNodes(2, { refuse: [0] });
    const start = startFrame('ed25519', group);
    group[0]!.conn.send(start);
    expect(await abortOf(group[0]!)).toMatchObject({ ceremonyId: start.ceremonyId, code: 'PARAMETERS_REFUSED' });
    group[1]!.conn.send(start);
    expect((await group[1]!.conn.next('ceremony.round1')).round1.package.identifier).toBe(start.participants[1]!.identifier);
  });

  it('refuses a ceremony it is not in, or with insane parameters', async () => {
    const group = await startNodes(3);
    const outside = startFrame('ed25519', group.slice(1));
    group[0]!.conn.send(outside);
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'NOT_A_PARTICIPANT' });
    group[0]!.conn.send(startFrame('ed25519', group, { threshold: 4 }));
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'PARAMETERS_REFUSED' });
    group[0]!.conn.send(startFrame('ed25519', group, { deadline: Date.now() - 1 }));
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'PARAMETERS_REFUSED' });
  });

  it('repeats its answer to a repeated frame, and refuses a second ceremony for a key in progress', async () => {
    const group = await startNodes(2);
    const start = startFrame('ed25519', group);
    group[0]!.conn.send(start);
    const first = await group[0]!.conn.next('ceremony.round1');
    group[0]!.conn.send(start);
    expect(await group[0]!.conn.next('ceremony.round1')).toEqual(first);
    group[0]!.conn.send({ ...start, ceremonyId: randomUUID() });
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'PARAMETERS_REFUSED' });
  });

  it('aborts DEADLINE_PASSED when the next frame does not come in time', async () => {
    const group = await startNodes(2);
    const start = startFrame('ed25519', group, { deadline: Date.now() + 300 });
    group[0]!.conn.send(start);
    await group[0]!.conn.next('ceremony.round1');
    expect(await abortOf(group[0]!)).toMatchObject({ ceremonyId: start.ceremonyId, code: 'DEADLINE_PASSED' });
  });

  it('a ceremony that fails after round 3 leaves no usable share', async () => {
    const group = await startNodes(3);
    const start = startFrame('secp256k1-tr', group);
    await runCeremony(group, start);
    // stored, but not usable before the coordinator confirms
    expect(await (await openTestKeystore(group[0]!.dir)).findShare(start.keyId)).not.toBeNull();
    group[0]!.conn.send(proposal(start, 'too early'));
    expect(await group[0]!.conn.next('request.decline')).toMatchObject({ code: expect.any(String) as string });

    for (const n of group) n.conn.send({ type: 'ceremony.closed', ceremonyId: start.ceremonyId, status: 'failed', reason: 'a result differed' });
    await waitFor(() => group.every((n) => n.events.some((e) => e.name === 'ceremony-failed')));
    expect(group[0]!.events.at(-1)).toEqual({ name: 'ceremony-failed', payload: { ceremonyId: start.ceremonyId, reason: 'a result differed' } });
    for (const n of group) expect(await (await openTestKeystore(n.dir)).findShare(start.keyId)).toBeNull();
  });
});

describe('a participant played by the test', () => {
  /** Two real nodes and a third participant whose secrets the test holds, to send what an honest node would not. */
  async function withPlayedParticipant(suite: SuiteId) {
    const group = await startNodes(2);
    const identity = generateIdentity();
    const s = getSuite(suite);
    const start = startFrame(suite, group);
    const id3 = s.identifier(3);
    start.participants.push({ nodeId: randomUUID(), identifier: id3, identityKey: identity.publicKey });
    const r1 = await round1(group, start);
    const dkg = s.frost.DKG.round1(id3, { min: 2, max: 3 });
    const signed = (proofOfKnowledge: string): SignedRound1 => {
      const pkg = { identifier: id3, commitment: dkg.public.commitment.map(bytesToHex), proofOfKnowledge };
      return { package: pkg, signature: identitySign(identity.secretKey, ceremonyRound1Transcript(start.ceremonyId, pkg)) };
    };
    return { group, identity, s, start, id3, r1, dkg, signed };
  }

  it('a bad proof of knowledge: BAD_PROOF naming its sender', async () => {
    const { group, start, id3, r1, dkg, signed } = await withPlayedParticipant('secp256k1');
    const proof = dkg.public.proofOfKnowledge.slice();
    proof[proof.length - 1]! ^= 1;
    const packages = sortSigned('secp256k1', [r1[0]!.round1, r1[1]!.round1, signed(bytesToHex(proof))]);
    group[0]!.conn.send(round1All(start, packages));
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'BAD_PROOF', culprit: id3 });
  });

  it('a share inconsistent with its commitment: INVALID_SHARE naming its sender', async () => {
    const { group, identity, s, start, id3, r1, dkg, signed } = await withPlayedParticipant('ed25519');
    const mine = signed(bytesToHex(dkg.public.proofOfKnowledge));
    const packages = sortSigned('ed25519', [r1[0]!.round1, r1[1]!.round1, mine]);
    for (const n of group) n.conn.send(round1All(start, packages));
    const r2 = await Promise.all(group.map((n) => n.conn.next('ceremony.round2')));
    const toNoble = (f: SignedRound1) => ({
      identifier: f.package.identifier,
      commitment: f.package.commitment.map(hexToBytes),
      proofOfKnowledge: hexToBytes(f.package.proofOfKnowledge),
    });
    const ours = s.frost.DKG.round2(dkg.secret, [toNoble(r1[0]!.round1), toNoble(r1[1]!.round1)]);
    const node1 = start.participants[0]!;
    // node 2's share sent to node 1: a valid scalar, not node 1's point of the polynomial
    const wrong = ours[start.participants[1]!.identifier]!.signingShare;
    const box = sealBetweenIdentities(
      wrong,
      identity,
      node1.identityKey,
      round2AssociatedData(start.ceremonyId, id3, node1.identifier, node1.identityKey),
      ROUND2_SEALING_INFO,
    );
    group[0]!.conn.send({
      type: 'ceremony.round2.all',
      ceremonyId: start.ceremonyId,
      transcriptHash: r2[0]!.transcriptHash,
      transcripts: [...r2.map(signedHashOf), { identifier: id3, transcriptHash: r2[0]!.transcriptHash, signature: identitySign(identity.secretKey, ceremonyAgreementTranscript({ ceremonyId: start.ceremonyId, identifier: id3, transcriptHash: r2[0]!.transcriptHash })) }],
      shares: [...r2[1]!.shares.filter((x) => x.to === node1.identifier), { from: id3, to: node1.identifier, ...box }],
      deadline: Date.now() + 30_000,
    });
    expect(await abortOf(group[0]!)).toMatchObject({ code: 'INVALID_SHARE', culprit: id3 });
    expect(await (await openTestKeystore(group[0]!.dir)).findShare(start.keyId)).toBeNull();
  });
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
