import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, type DealtKey, type IdentityKeyPair } from '#crypto';
import { CloseCode, MAX_FRAME_BYTES } from '#protocol';
import { digestHex, intentHash } from '#intent';
import { verifySecp256k1 } from '#verify';
import { dealtKeyRegistration } from './support/keys.js';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { ScriptedSigner } from './support/scripted-signer.js';

describe('coordinator against scripted nodes (real app, real ws, real database)', () => {
  let coord: TestCoordinator;
  let key: DealtKey;
  let keyId: string;
  const identities: IdentityKeyPair[] = [generateIdentity(), generateIdentity(), generateIdentity()];
  const nodeIds: string[] = [];
  let signers: ScriptedSigner[] = [];

  beforeAll(async () => {
    coord = await startTestCoordinator();
    for (const [i, id] of identities.entries()) {
      const res = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: id.publicKey, label: `node-${i + 1}` });
      expect(res.status).toBe(201);
      nodeIds.push(res.body.id);
    }
    const dealt = dealtKeyRegistration('secp256k1', 2, nodeIds);
    key = dealt.key;
    const identifiers = Object.keys(key.public.verifyingShares);
    const res = await coord.api<{ id: string; groupPublicKey: string }>('POST', '/v1/keys', dealt.body);
    expect(res.status).toBe(201);
    keyId = res.body.id;
    signers = await Promise.all(
      identities.map(async (id, i) => {
        const node = await RawNode.connect(coord.wsUrl, id);
        await node.next('auth.ok');
        return new ScriptedSigner(node, identifiers[i]!, key);
      }),
    );
  });

  afterAll(async () => {
    // Every frame the coordinator sent during the suite matched the protocol's schemas.
    expect(signers.flatMap((s) => s.node.invalidFrames)).toEqual([]);
    signers.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  const createRequest = async (message: string) => {
    const res = await coord.api<{ id: string; status: string }>('POST', '/v1/signing-requests', { keyId, message, encoding: 'utf8', description: 'test' });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const getRequest = (id: string) => coord.api<Record<string, unknown>>('GET', `/v1/signing-requests/${id}`);

  it('refuses an unknown node with close code 4404, a bad signature with 4401, a revoked node with 4403', async () => {
    const stranger = await RawNode.connect(coord.wsUrl);
    expect(await stranger.next('error')).toMatchObject({ code: 'NODE_UNKNOWN' });
    expect(await stranger.closed()).toBe(CloseCode.NODE_UNKNOWN);

    const forger = await RawNode.open(coord.wsUrl, identities[0]);
    await forger.next('auth.challenge');
    forger.send({ type: 'auth.response', publicKey: identities[0]!.publicKey, signature: 'ab'.repeat(64) });
    expect(await forger.closed()).toBe(CloseCode.AUTH_FAILED);

    const doomed = generateIdentity();
    const enrolled = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: doomed.publicKey, label: 'doomed' });
    const live = await RawNode.connect(coord.wsUrl, doomed);
    await live.next('auth.ok');
    expect((await coord.api('POST', `/v1/nodes/${enrolled.body.id}/revoke`)).status).toBe(200);
    expect(await live.closed()).toBe(CloseCode.NODE_REVOKED);
    const again = await RawNode.connect(coord.wsUrl, doomed);
    expect(await again.closed()).toBe(CloseCode.NODE_REVOKED);
  });

  it('answers frames before authentication with AUTH_REQUIRED and closes', async () => {
    const early = await RawNode.open(coord.wsUrl);
    await early.next('auth.challenge');
    early.send({ type: 'request.decline', requestId: '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41', code: 'POLICY_DENIED', reason: 'x' });
    expect(await early.next('error')).toMatchObject({ code: 'AUTH_REQUIRED' });
    expect(await early.closed()).toBe(CloseCode.AUTH_REQUIRED);
  });

  it('answers malformed frames with typed errors and keeps the connection and the service up', async () => {
    const s = signers[0]!;
    s.node.sendRaw('{"v":1,"type":"request.commit"');
    expect(await s.node.next('error')).toMatchObject({ code: 'MALFORMED_FRAME' });
    s.node.sendRaw(JSON.stringify({ v: 1, type: 'request.commit', requestId: 7, commitment: {} }));
    expect(await s.node.next('error')).toMatchObject({ code: 'MALFORMED_FRAME', inReplyTo: 'request.commit' });
    s.node.sendRaw(JSON.stringify({ v: 9, type: 'request.commit' }));
    expect(await s.node.next('error')).toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    s.node.sendRaw(Buffer.from([0xff, 0x00, 0x13]));
    expect(await s.node.next('error')).toMatchObject({ code: 'MALFORMED_FRAME' });
    expect(s.node.closeCode).toBeNull();
    expect((await fetch(`${coord.httpUrl}/health`)).status).toBe(200);
  });

  it('closes an oversized frame with 1009 and keeps serving', async () => {
    const big = await RawNode.connect(coord.wsUrl, generateIdentity());
    big.sendRaw('x'.repeat(MAX_FRAME_BYTES + 1));
    expect(await big.closed()).toBe(CloseCode.MESSAGE_TOO_BIG);
    expect((await fetch(`${coord.httpUrl}/health`)).status).toBe(200);
  });

  it('signs 2-of-3 end to end, treats an exact duplicate commitment as idempotent, and excludes a node answering an attempt it is not in', async () => {
    const requestId = await createRequest('first payment');
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    const proposals = await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    // Each proposal carries the intent, whose payload derives the bytes to sign, and its hash.
    expect(proposals.every((p) => digestHex(p.intent.payload) === Buffer.from('first payment').toString('hex'))).toBe(true);
    expect(proposals.every((p) => intentHash(p.intent) === p.intentHash && p.intent.keyId === keyId)).toBe(true);

    const ca = a.makeCommitment();
    const commitA = a.commitFrame(requestId, ca);
    a.node.send(commitA);
    await a.node.next('ack', (f) => f.requestId === requestId);
    // An exact duplicate frame is acknowledged again and changes nothing.
    a.node.send(commitA);
    await a.node.next('ack', (f) => f.requestId === requestId);
    b.commit(requestId, b.makeCommitment());

    const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    const pb = await b.node.next('attempt.package', (f) => f.requestId === requestId);
    expect(pb.commitments).toEqual(pa.commitments);
    expect(pa.commitments).toHaveLength(2);

    // c is not in this attempt: a share from it is a frame nobody asked for, and c is excluded (ROAST).
    c.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: '11'.repeat(32) });
    expect(await c.node.next('error', (f) => f.requestId === requestId)).toMatchObject({
      code: 'NOT_IN_SIGNER_SET',
      message: expect.stringMatching(/excluded/) as unknown,
    });
    c.commit(requestId, c.makeCommitment());
    expect(await c.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'NOT_IN_SIGNER_SET' });

    a.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: a.share(pa) });
    await a.node.next('ack', (f) => f.of === 'attempt.share');
    const shareB = b.share(pb);
    b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: shareB });
    await a.node.next('request.closed', (f) => f.requestId === requestId && f.status === 'completed');

    const done = await getRequest(requestId);
    expect(done.body).toMatchObject({
      status: 'completed',
      groupPublicKey: key.public.commitments[0],
      culprits: [{ nodeId: nodeIds[2], reason: 'unsolicited_frame', attemptId: pa.attemptId }],
    });
    expect(done.body.attempts).toHaveLength(1);
    expect(verifySecp256k1(done.body.signature as string, Buffer.from('first payment'), key.public.commitments[0]!)).toBe(true);

    // Replays after the fact are refused; the request is over, so nobody is marked for them.
    a.commit(requestId, ca);
    expect(await a.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'REQUEST_FINISHED' });
    b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: shareB });
    expect(await b.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'REQUEST_FINISHED' });
    expect((await getRequest(requestId)).body.culprits).toHaveLength(1);
  });

  it('excludes a node that reuses a commitment, answers twice, or names another request\'s attempt; the honest pair completes', async () => {
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    const proposed = async (id: string) => Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === id)));

    // 1. A commitment already used with this key (in another request).
    const first = await createRequest('reuse: first');
    await proposed(first);
    const reused = a.makeCommitment();
    a.commit(first, reused);
    b.commit(first, b.makeCommitment());
    const p1a = await a.node.next('attempt.package', (f) => f.requestId === first);
    const p1b = await b.node.next('attempt.package', (f) => f.requestId === first);
    const firstShareA = a.share(p1a);
    a.node.send({ type: 'attempt.share', requestId: first, attemptId: p1a.attemptId, share: firstShareA });
    b.node.send({ type: 'attempt.share', requestId: first, attemptId: p1b.attemptId, share: b.share(p1b) });
    await b.node.next('request.closed', (f) => f.requestId === first && f.status === 'completed');

    const second = await createRequest('reuse: second');
    await proposed(second);
    a.commit(second, reused);
    expect(await a.node.next('error', (f) => f.requestId === second)).toMatchObject({ code: 'COMMITMENT_REUSED' });
    b.commit(second, b.makeCommitment());
    c.commit(second, c.makeCommitment());
    const p2b = await b.node.next('attempt.package', (f) => f.requestId === second);
    const p2c = await c.node.next('attempt.package', (f) => f.requestId === second);
    expect(p2b.commitments.map((x) => x.identifier)).toEqual([b.identifier, c.identifier]);
    b.node.send({ type: 'attempt.share', requestId: second, attemptId: p2b.attemptId, share: b.share(p2b) });
    c.node.send({ type: 'attempt.share', requestId: second, attemptId: p2c.attemptId, share: c.share(p2c) });
    await c.node.next('request.closed', (f) => f.requestId === second && f.status === 'completed');
    expect((await getRequest(second)).body).toMatchObject({ culprits: [{ nodeId: nodeIds[0], reason: 'reused_commitment' }] });

    // 2. A share naming the first request's attempt, under a request where a is in an attempt of its own.
    const third = await createRequest('foreign attempt');
    await proposed(third);
    a.commit(third, a.makeCommitment());
    b.commit(third, b.makeCommitment());
    const p3a = await a.node.next('attempt.package', (f) => f.requestId === third);
    const p3b = await b.node.next('attempt.package', (f) => f.requestId === third);
    a.node.send({ type: 'attempt.share', requestId: third, attemptId: p1a.attemptId, share: firstShareA });
    expect(await a.node.next('error', (f) => f.requestId === third)).toMatchObject({
      code: 'ATTEMPT_NOT_FOUND',
      message: expect.stringMatching(/another request/) as unknown,
    });
    // a's exclusion ends attempt 1 (it cannot complete without a); b still owes it an answer, and its
    // late answer with a next commitment makes it ready for attempt 2 with c.
    expect(await b.node.next('attempt.abort', (f) => f.requestId === third)).toMatchObject({ attemptId: p3a.attemptId });
    b.node.send({ type: 'attempt.share', requestId: third, attemptId: p3b.attemptId, share: b.share(p3b), nextCommitment: b.makeCommitment() });
    await b.node.next('ack', (f) => f.of === 'attempt.share' && f.requestId === third);
    c.commit(third, c.makeCommitment());
    const p4b = await b.node.next('attempt.package', (f) => f.requestId === third);
    const p4c = await c.node.next('attempt.package', (f) => f.requestId === third);
    b.node.send({ type: 'attempt.share', requestId: third, attemptId: p4b.attemptId, share: b.share(p4b) });
    c.node.send({ type: 'attempt.share', requestId: third, attemptId: p4c.attemptId, share: c.share(p4c) });
    await c.node.next('request.closed', (f) => f.requestId === third && f.status === 'completed');
    const view3 = await getRequest(third);
    expect(view3.body).toMatchObject({ status: 'completed', culprits: [{ nodeId: nodeIds[0], reason: 'unsolicited_frame' }] });
    expect((view3.body.attempts as { status: string }[]).map((x) => x.status)).toEqual(['failed', 'completed']);

    // 3. A second, different share for the same attempt.
    const fourth = await createRequest('two answers');
    await proposed(fourth);
    a.commit(fourth, a.makeCommitment());
    c.commit(fourth, c.makeCommitment());
    const p5a = await a.node.next('attempt.package', (f) => f.requestId === fourth);
    const p5c = await c.node.next('attempt.package', (f) => f.requestId === fourth);
    c.node.send({ type: 'attempt.share', requestId: fourth, attemptId: p5c.attemptId, share: c.share(p5c), nextCommitment: c.makeCommitment() });
    await c.node.next('ack', (f) => f.of === 'attempt.share' && f.requestId === fourth);
    c.node.send({ type: 'attempt.share', requestId: fourth, attemptId: p5c.attemptId, share: '22'.repeat(32) });
    expect(await c.node.next('error', (f) => f.requestId === fourth)).toMatchObject({ code: 'SHARE_CONFLICT' });
    // c is excluded, but its first answer was valid: the attempt it answered still completes.
    a.node.send({ type: 'attempt.share', requestId: fourth, attemptId: p5a.attemptId, share: a.share(p5a), nextCommitment: a.makeCommitment() });
    await a.node.next('request.closed', (f) => f.requestId === fourth && f.status === 'completed');
    const view4 = await getRequest(fourth);
    expect(view4.body).toMatchObject({ status: 'completed', culprits: [{ nodeId: nodeIds[2], reason: 'unsolicited_frame' }] });
    expect(view4.body.attempts).toHaveLength(1);
  });

  it('names the culprit of an invalid share, excludes it, and completes with the honest signers', async () => {
    const requestId = await createRequest('culprit test');
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    a.commit(requestId, a.makeCommitment());
    await a.node.next('ack', (f) => f.requestId === requestId);
    b.commit(requestId, b.makeCommitment());
    await b.node.next('ack', (f) => f.requestId === requestId);
    const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    await b.node.next('attempt.package', (f) => f.requestId === requestId);
    // b cheats: a well-formed scalar that is not its share. a is honest and offers its next commitment.
    a.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: a.share(pa), nextCommitment: a.makeCommitment() });
    b.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: '0'.repeat(63) + '5' });
    // The second attempt needs c.
    c.commit(requestId, c.makeCommitment());
    const p2a = await a.node.next('attempt.package', (f) => f.requestId === requestId && f.attemptId !== pa.attemptId);
    const p2c = await c.node.next('attempt.package', (f) => f.requestId === requestId);
    expect(p2a.attemptId).toBe(p2c.attemptId);
    a.node.send({ type: 'attempt.share', requestId, attemptId: p2a.attemptId, share: a.share(p2a) });
    c.node.send({ type: 'attempt.share', requestId, attemptId: p2c.attemptId, share: c.share(p2c) });
    await c.node.next('request.closed', (f) => f.requestId === requestId);
    const view = await getRequest(requestId);
    expect(view.body).toMatchObject({
      status: 'completed',
      culprits: [{ nodeId: nodeIds[1], reason: 'invalid_share', attemptId: pa.attemptId }],
    });
    expect((view.body.attempts as { status: string }[]).map((x) => x.status)).toEqual(['failed', 'completed']);
    // The excluded node may not offer commitments for this request any more (it is closed anyway).
    const rejected = await coord.api<{ entries: { nodeId: string; details: Record<string, unknown> }[] }>(
      'GET',
      `/v1/audit?requestId=${requestId}&action=share.rejected`,
    );
    expect(rejected.body.entries).toHaveLength(1);
    expect(rejected.body.entries[0]).toMatchObject({ nodeId: nodeIds[1], details: { reason: 'invalid_share' } });
  });

  it('does not wait for a silent signer: a concurrent attempt completes without it, and it is not blamed (ROAST)', async () => {
    const requestId = await createRequest('silence');
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    a.commit(requestId, a.makeCommitment());
    await a.node.next('ack', (f) => f.requestId === requestId);
    c.commit(requestId, c.makeCommitment());
    const p1 = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    await c.node.next('attempt.package', (f) => f.requestId === requestId);
    // c stays silent. a answers and is ready again at once; b commits; a second attempt starts beside the first.
    a.node.send({ type: 'attempt.share', requestId, attemptId: p1.attemptId, share: a.share(p1), nextCommitment: a.makeCommitment() });
    b.commit(requestId, b.makeCommitment());
    const p2 = await a.node.next('attempt.package', (f) => f.requestId === requestId && f.attemptId !== p1.attemptId);
    const p2b = await b.node.next('attempt.package', (f) => f.requestId === requestId);
    expect(p2b.attemptId).toBe(p2.attemptId);
    const running = await getRequest(requestId);
    expect((running.body.attempts as { status: string }[]).map((x) => x.status)).toEqual(['signing', 'signing']);
    a.node.send({ type: 'attempt.share', requestId, attemptId: p2.attemptId, share: a.share(p2) });
    b.node.send({ type: 'attempt.share', requestId, attemptId: p2.attemptId, share: b.share(p2b) });
    await c.node.next('request.closed', (f) => f.requestId === requestId && f.status === 'completed');
    const view = await getRequest(requestId);
    expect(view.body).toMatchObject({ status: 'completed', culprits: [] });
    expect((view.body.attempts as { status: string }[]).map((x) => x.status)).toEqual(['aborted', 'completed']);
    expect(verifySecp256k1(view.body.signature as string, Buffer.from('silence'), key.public.commitments[0]!)).toBe(true);
  });

  it('fails at once with NOT_ENOUGH_SIGNERS once fewer than t can sign, naming who was excluded and who never answered', async () => {
    const requestId = await createRequest('too few');
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    // a commits and is selected with b; b sends a malformed share; c declines. Nobody else can sign.
    a.commit(requestId, a.makeCommitment());
    b.commit(requestId, b.makeCommitment());
    const pb = await b.node.next('attempt.package', (f) => f.requestId === requestId);
    await a.node.next('attempt.package', (f) => f.requestId === requestId);
    b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: 'ff'.repeat(32) });
    expect(await b.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'SHARE_MALFORMED' });
    c.decline(requestId, 'POLICY_DENIED', 'not today');
    const closed = await a.node.next('request.closed', (f) => f.requestId === requestId);
    expect(closed.status).toBe('failed');
    const view = await getRequest(requestId);
    expect(view.body).toMatchObject({ status: 'failed', failure: { code: 'NOT_ENOUGH_SIGNERS' } });
    const reason = (view.body.failure as { reason: string }).reason;
    // Nodes are named by label and id.
    expect(reason).toContain(`node-2 (${nodeIds[1]}) (malformed_share`);
    expect(reason).toContain(`node-3 (${nodeIds[2]}) (declined`);
    // a still owed attempt 1 its share when the request failed.
    expect(reason).toContain(`never answered: node-1 (${nodeIds[0]})`);
    expect(view.body.culprits).toEqual([
      expect.objectContaining({ nodeId: nodeIds[1], reason: 'malformed_share', attemptId: pb.attemptId }),
      expect.objectContaining({ nodeId: nodeIds[2], reason: 'declined' }),
    ]);
  });

  it('expires with a reason naming the signers that never answered', async () => {
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', {
      keyId,
      message: 'short deadline',
      encoding: 'utf8',
      description: 'test',
      deadline: new Date(Date.now() + 1_500).toISOString(),
    });
    expect(res.status).toBe(201);
    const requestId = res.body.id;
    const [a] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    a.commit(requestId, a.makeCommitment());
    const closed = await a.node.next('request.closed', (f) => f.requestId === requestId, 10_000);
    expect(closed.status).toBe('expired');
    const view = await getRequest(requestId);
    expect(view.body).toMatchObject({ status: 'expired', failure: { code: 'REQUEST_EXPIRED' } });
    expect((view.body.failure as { reason: string }).reason).toContain(`never answered: node-2 (${nodeIds[1]}), node-3 (${nodeIds[2]})`);
    expect(view.body.attempts).toEqual([]);
  });

  it('ends an attempt at once when a selected signer declines; the other\'s late answer makes it ready again', async () => {
    const requestId = await createRequest('change of mind');
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    a.commit(requestId, a.makeCommitment());
    await a.node.next('ack', (f) => f.requestId === requestId);
    b.commit(requestId, b.makeCommitment());
    const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    await b.node.next('attempt.package', (f) => f.requestId === requestId);
    // Its approval stands (a contrary signed decline would be refused: test/decisions.e2e-spec.ts), but a
    // node may still decline for a technical reason, which carries no decision.
    b.decline(requestId, 'SIGNING_FAILED', 'the nonce journal is full');
    const abort = await a.node.next('attempt.abort', (f) => f.requestId === requestId);
    expect(abort.attemptId).toBe(pa.attemptId);
    // a owes attempt 1 an answer still: a fresh commitment without it would be unsolicited. Its late share
    // (discarded) with a next commitment makes it ready; with c, attempt 2 completes.
    a.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: a.share(pa), nextCommitment: a.makeCommitment() });
    await a.node.next('ack', (f) => f.of === 'attempt.share' && f.requestId === requestId);
    c.commit(requestId, c.makeCommitment());
    const p2 = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    const p2c = await c.node.next('attempt.package', (f) => f.requestId === requestId);
    a.node.send({ type: 'attempt.share', requestId, attemptId: p2.attemptId, share: a.share(p2) });
    c.node.send({ type: 'attempt.share', requestId, attemptId: p2c.attemptId, share: c.share(p2c) });
    await a.node.next('request.closed', (f) => f.requestId === requestId);
    const view = await getRequest(requestId);
    expect(view.body).toMatchObject({ status: 'completed', culprits: [{ nodeId: nodeIds[1], reason: 'declined' }] });
    expect((view.body.attempts as { status: string }[]).map((x) => x.status)).toEqual(['failed', 'completed']);
  });

  it('excludes a node that offers a second, different commitment while its first is unused', async () => {
    const requestId = await createRequest('equivocation');
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === requestId)));
    c.commit(requestId, c.makeCommitment());
    await c.node.next('ack', (f) => f.requestId === requestId);
    c.commit(requestId, c.makeCommitment());
    expect(await c.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'COMMITMENT_CONFLICT' });
    a.commit(requestId, a.makeCommitment());
    b.commit(requestId, b.makeCommitment());
    const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    const pb = await b.node.next('attempt.package', (f) => f.requestId === requestId);
    expect(pa.commitments.map((x) => x.identifier)).toEqual([a.identifier, b.identifier]);
    a.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: a.share(pa) });
    b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: b.share(pb) });
    await a.node.next('request.closed', (f) => f.requestId === requestId && f.status === 'completed');
    expect((await getRequest(requestId)).body).toMatchObject({ culprits: [{ nodeId: nodeIds[2], reason: 'unsolicited_frame' }] });
  });

  it('keeps an unbroken audit chain through all of the above', async () => {
    const verdict = await coord.api<{ ok: boolean; checked: number }>('GET', '/v1/audit/verify');
    expect(verdict.body.ok).toBe(true);
    expect(verdict.body.checked).toBeGreaterThan(30);
  });
});
