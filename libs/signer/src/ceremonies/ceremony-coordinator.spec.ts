import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bytesToHex,
  ceremonyAgreementTranscript,
  ceremonyRound1Transcript,
  compareIdentifiers,
  generateIdentity,
  getSuite,
  hexToBytes,
  identitySign,
  round2AssociatedData,
  type SuiteId,
} from '#crypto';
import type { CeremonyClosedFrame, Outgoing, SealedRound2, SignedRound1, SignedTranscriptHash } from '#protocol';
import { sealBetweenIdentities } from '../keystore/sealed-share.js';
import {
  CeremonyTestbed,
  abortOf,
  completedClose,
  proposal,
  round1,
  round1All,
  round2AllFor,
  runCeremony,
  signedHashOf,
  sortSigned,
  startFrame,
  waitFor,
  type TestNode,
} from '../testing/ceremony-fixtures.js';
import { openTestKeystore } from '../testing/key-fixtures.js';
import { ROUND2_SEALING_INFO } from './ceremony-participant.js';

let bed: CeremonyTestbed;

beforeEach(async () => {
  bed = await CeremonyTestbed.create();
});

afterEach(async () => {
  await bed.close();
});

const holds = async (n: TestNode, keyId: string) => {
  const keystore = await openTestKeystore(n.dir);
  return { share: (await keystore.findShare(keyId)) !== null, pending: (await keystore.listPending()).includes(keyId) };
};

/** The share is stored but not usable: a proposal for the key is declined. */
async function expectQuarantined(n: TestNode, start: ReturnType<typeof startFrame>) {
  expect(await holds(n, start.keyId)).toEqual({ share: true, pending: true });
  n.conn.send(proposal(start, 'not yet'));
  expect(await n.conn.next('request.decline')).toMatchObject({ code: 'KEY_NOT_HELD' });
}

/** The share is usable: a proposal for the key gets a commitment. */
async function expectUsable(n: TestNode, start: ReturnType<typeof startFrame>) {
  expect(await holds(n, start.keyId)).toEqual({ share: true, pending: false });
  n.conn.send(proposal(start, 'now usable'));
  await n.conn.next('request.commit');
}

describe('a coordinator colluding with one participant shows two honest nodes different round-1 sets (split view)', () => {
  type Strategy = 'relay the hash the other node signed' | 'claim the other node saw the same set' | 'leave the other node out';

  /**
   * Honest nodes A and B, colluder C played by the test. C signs two round-1 packages for the ceremony; the
   * coordinator shows A the first and B the second, relays each honest node's round-2 shares, and C sends
   * each node a valid share of the polynomial that node saw: without the signed hashes, A and B would
   * each derive (and store) a share of a different group key under one key id.
   */
  async function splitView(strategy: Strategy) {
    const suite: SuiteId = 'secp256k1';
    const s = getSuite(suite);
    const [a, b] = await bed.startNodes(2);
    const colluder = generateIdentity();
    const start = startFrame(suite, [a!, b!]);
    const idC = s.identifier(3);
    start.participants.push({ nodeId: randomUUID(), identifier: idC, identityKey: colluder.publicKey });
    const [idA, idB] = [start.participants[0]!.identifier, start.participants[1]!.identifier];
    const r1 = await round1([a!, b!], start);

    const dkg = s.frost.DKG;
    const packageOf = (pub: { identifier: string; commitment: Uint8Array[]; proofOfKnowledge: Uint8Array }): SignedRound1 => {
      const pkg = { identifier: pub.identifier, commitment: pub.commitment.map(bytesToHex), proofOfKnowledge: bytesToHex(pub.proofOfKnowledge) };
      return { package: pkg, signature: identitySign(colluder.secretKey, ceremonyRound1Transcript(start.ceremonyId, pkg)) };
    };
    const forA = dkg.round1(idC, { min: 2, max: 3 });
    const forB = dkg.round1(idC, { min: 2, max: 3 });
    a!.conn.send(round1All(start, sortSigned(suite, [r1[0]!.round1, r1[1]!.round1, packageOf(forA.public)])));
    b!.conn.send(round1All(start, sortSigned(suite, [r1[0]!.round1, r1[1]!.round1, packageOf(forB.public)])));
    const [fromA, fromB] = [await a!.conn.next('ceremony.round2'), await b!.conn.next('ceremony.round2')];
    expect(fromA.transcriptHash).not.toBe(fromB.transcriptHash);

    const noble = (f: SignedRound1) => ({
      identifier: f.package.identifier,
      commitment: f.package.commitment.map(hexToBytes),
      proofOfKnowledge: hexToBytes(f.package.proofOfKnowledge),
    });
    const colluderShare = (secret: typeof forA.secret, to: string, recipientKey: string): SealedRound2 => {
      const share = dkg.round2(secret, [noble(r1[0]!.round1), noble(r1[1]!.round1)])[to]!.signingShare;
      const box = sealBetweenIdentities(share, colluder, recipientKey, round2AssociatedData(start.ceremonyId, idC, to, recipientKey), ROUND2_SEALING_INFO);
      return { from: idC, to, ...box };
    };
    const colluderHash = (transcriptHash: string): SignedTranscriptHash => ({
      identifier: idC,
      transcriptHash,
      signature: identitySign(colluder.secretKey, ceremonyAgreementTranscript({ ceremonyId: start.ceremonyId, identifier: idC, transcriptHash })),
    });
    const frameFor = (me: typeof fromA, other: typeof fromA, to: string, recipientKey: string, secret: typeof forA.secret) => {
      const otherEntry = signedHashOf(other);
      const others: SignedTranscriptHash[] =
        strategy === 'relay the hash the other node signed'
          ? [otherEntry]
          : strategy === 'claim the other node saw the same set'
            ? [{ ...otherEntry, transcriptHash: me.transcriptHash }]
            : [];
      return {
        type: 'ceremony.round2.all' as const,
        ceremonyId: start.ceremonyId,
        transcriptHash: me.transcriptHash,
        transcripts: [signedHashOf(me), ...others, colluderHash(me.transcriptHash)].sort((x, y) => compareIdentifiers(suite, x.identifier, y.identifier)),
        shares: [...other.shares.filter((x) => x.to === to), colluderShare(secret, to, recipientKey)],
        deadline: Date.now() + 30_000,
      };
    };
    a!.conn.send(frameFor(fromA, fromB, idA, a!.node.publicKey!, forA.secret));
    b!.conn.send(frameFor(fromB, fromA, idB, b!.node.publicKey!, forB.secret));
    return { a: a!, b: b!, start, idA, idB };
  }

  it.each([
    ['relay the hash the other node signed', 'TRANSCRIPT_MISMATCH', true],
    ['claim the other node saw the same set', 'BAD_SIGNATURE', true],
    ['leave the other node out', 'TRANSCRIPT_MISMATCH', false],
  ] as const)('%s: each honest node aborts (%s) and stores no share', async (strategy, code, named) => {
    const { a, b, start, idA, idB } = await splitView(strategy);
    const [abortA, abortB] = [await abortOf(a), await abortOf(b)];
    expect(abortA).toMatchObject({ ceremonyId: start.ceremonyId, code });
    expect(abortB).toMatchObject({ ceremonyId: start.ceremonyId, code });
    expect(abortA.culprit).toBe(named ? idB : undefined);
    expect(abortB.culprit).toBe(named ? idA : undefined);
    for (const n of [a, b]) {
      expect(await holds(n, start.keyId)).toEqual({ share: false, pending: false });
      expect(n.events.map((e) => e.name)).toEqual(['ceremony-started', 'ceremony-aborted']);
    }
  });
});

describe('ceremony.closed completed: a node confirms its share only when it can check the key and every signed result', () => {
  it('keeps the share quarantined for a close without the key, with another key, or with a result signature that does not verify; confirms a good one', async () => {
    const group = await bed.startNodes(3);
    const start = startFrame('ed25519', group);
    const { res } = await runCeremony(group, start);
    const good = completedClose(start, res);
    const otherKey = Object.values(res[0]!.verifyingShares)[0]!;
    const forged = good.resultSignatures!.map((r, i) => (i === 2 ? { ...r, signature: good.resultSignatures![0]!.signature } : r));
    const bad: Outgoing<CeremonyClosedFrame>[] = [
      // what a close looked like before: the key id only
      { type: 'ceremony.closed', ceremonyId: start.ceremonyId, status: 'completed', keyId: start.keyId },
      { ...good, groupPublicKey: otherKey, commitments: [otherKey, ...good.commitments!.slice(1)] },
      { ...good, resultSignatures: forged },
    ];
    const reasons = [/does not carry the registered key/, /not the one this node derived/, /result signature of .* does not verify/];
    for (const [i, n] of group.entries()) {
      n.conn.send(bad[i]!);
      await waitFor(() => n.events.some((e) => e.name === 'ceremony-quarantined'));
      const event = n.events.find((e) => e.name === 'ceremony-quarantined')!.payload as { keyId: string; reason: string };
      expect(event.keyId).toBe(start.keyId);
      expect(event.reason).toMatch(reasons[i]!);
      expect(n.events.some((e) => e.name === 'ceremony-completed' || e.name === 'ceremony-failed')).toBe(false);
      await expectQuarantined(n, start);
    }
    // The honest close (for example the answer to a later ceremony.query) confirms it.
    for (const n of group) {
      n.conn.send(good);
      await waitFor(() => n.events.some((e) => e.name === 'ceremony-completed'));
      await expectUsable(n, start);
    }
  });

  it('a failed close deletes the share of a key that was not registered, and only then', async () => {
    const group = await bed.startNodes(2);
    const start = startFrame('p256', group);
    await runCeremony(group, start);
    group[0]!.conn.send({ type: 'ceremony.closed', ceremonyId: start.ceremonyId, status: 'failed', reason: 'RESULT_MISMATCH: a result differed' });
    await waitFor(() => group[0]!.events.some((e) => e.name === 'ceremony-failed'));
    expect(await holds(group[0]!, start.keyId)).toEqual({ share: false, pending: false });
    // A close for another ceremony of the same node changes nothing.
    group[1]!.conn.send({ type: 'ceremony.closed', ceremonyId: randomUUID(), status: 'failed', reason: 'not this one' });
    expect(await group[1]!.conn.quietFor(200)).toBe(true);
    expect(await holds(group[1]!, start.keyId)).toEqual({ share: true, pending: true });
  });
});

describe('a node that misses ceremony.closed never deletes the share; it asks', () => {
  it('the close deadline passes without the close: the share stays pending, the node asks, and confirms on the answer', async () => {
    const group = await bed.startNodes(2);
    const start = startFrame('ristretto255', group);
    const { r2, res } = await (async () => {
      const r1 = await round1(group, start);
      const packages = sortSigned(
        'ristretto255',
        r1.map((f) => f.round1),
      );
      for (const n of group) n.conn.send(round1All(start, packages));
      const r2 = await Promise.all(group.map((n) => n.conn.next('ceremony.round2')));
      // a short round 3: the close is due 300 ms after the shares
      group.forEach((n, i) => n.conn.send({ ...round2AllFor(start, i, r2), deadline: Date.now() + 300 }));
      return { r2, res: await Promise.all(group.map((n) => n.conn.next('ceremony.result'))) };
    })();
    expect(r2).toHaveLength(2);
    const node = group[0]!;
    expect(await node.conn.next('ceremony.query', 3_000)).toEqual({ v: 1, type: 'ceremony.query', ceremonyId: start.ceremonyId });
    expect(node.events.some((e) => e.name === 'ceremony-aborted')).toBe(false);
    await expectQuarantined(node, start);
    node.conn.send(completedClose(start, res));
    await waitFor(() => node.events.some((e) => e.name === 'ceremony-completed'));
    await expectUsable(node, start);
  });

  it('disconnected when the close was sent: it asks on reconnect and acts on the answer', async () => {
    const group = await bed.startNodes(2);
    const start = startFrame('ed25519', group);
    const { res } = await runCeremony(group, start);
    const node = group[0]!;
    const reconnecting = bed.fake.nextConnection();
    node.conn.close(1012, 'coordinator restarting');
    const conn = await reconnecting;
    await conn.authenticated();
    expect(await conn.next('ceremony.query')).toMatchObject({ ceremonyId: start.ceremonyId });
    conn.send(completedClose(start, res));
    await waitFor(() => node.events.some((e) => e.name === 'ceremony-completed'));
    expect(await holds(node, start.keyId)).toEqual({ share: true, pending: false });
  });

  it('after a restart it asks for every pending share: completed makes it usable, failed deletes it', async () => {
    const group = await bed.startNodes(3);
    const start = startFrame('secp256k1-tr', group);
    const { res } = await runCeremony(group, start);
    const [first, second] = [await bed.restart(group[0]!), await bed.restart(group[1]!)];
    for (const n of [first, second]) {
      expect(await n.conn.next('ceremony.query')).toMatchObject({ ceremonyId: start.ceremonyId });
      // unusable until the answer comes
      await expectQuarantined(n, start);
    }
    first.conn.send(completedClose(start, res));
    await waitFor(() => first.events.some((e) => e.name === 'ceremony-completed'));
    await expectUsable(first, start);
    second.conn.send({ type: 'ceremony.closed', ceremonyId: start.ceremonyId, status: 'failed', reason: 'DEADLINE_PASSED: no result in time' });
    await waitFor(() => second.events.some((e) => e.name === 'ceremony-failed'));
    expect(await holds(second, start.keyId)).toEqual({ share: false, pending: false });
  });

  it('a pending mark written by an older version (no ceremony in it) keeps the share unusable and asks nothing', async () => {
    const group = await bed.startNodes(2);
    const start = startFrame('ed25519', group);
    await runCeremony(group, start);
    await group[0]!.node.stop();
    await (await openTestKeystore(group[0]!.dir)).markPending(start.keyId);
    const again = await bed.restart(group[0]!);
    expect(await again.conn.quietFor(200)).toBe(true);
    await expectQuarantined(again, start);
  });
});

describe('a node restarted mid-ceremony', () => {
  it('fails the ceremony STATE_LOST when the coordinator sends a round it can no longer answer, leaving nothing on disk', async () => {
    const group = await bed.startNodes(2);
    const start = startFrame('ed448', group);
    const r1 = await round1(group, start);
    const again = await bed.restart(group[0]!);
    again.conn.send(
      round1All(
        start,
        sortSigned(
          'ed448',
          r1.map((f) => f.round1),
        ),
      ),
    );
    const abort = await abortOf(again);
    expect(abort).toMatchObject({ ceremonyId: start.ceremonyId, code: 'STATE_LOST' });
    expect(abort.reason).toMatch(/restarted/);
    expect(await holds(again, start.keyId)).toEqual({ share: false, pending: false });
    // the same frame again is not answered twice
    again.conn.send(round1All(start, sortSigned('ed448', [r1[0]!.round1, r1[1]!.round1])));
    expect(await again.conn.quietFor(200)).toBe(true);
  });

  it('after its share was stored it answers a resent round 3 with the same result, rebuilt from the share', async () => {
    const group = await bed.startNodes(2);
    const start = startFrame('secp256k1', group);
    const r1 = await round1(group, start);
    const packages = sortSigned(
      'secp256k1',
      r1.map((f) => f.round1),
    );
    for (const n of group) n.conn.send(round1All(start, packages));
    const r2 = await Promise.all(group.map((n) => n.conn.next('ceremony.round2')));
    const frame = round2AllFor(start, 0, r2);
    group[0]!.conn.send(frame);
    const result = await group[0]!.conn.next('ceremony.result');
    const again = await bed.restart(group[0]!);
    await again.conn.next('ceremony.query');
    again.conn.send(frame);
    expect(await again.conn.next('ceremony.result')).toEqual(result);
  });
});
