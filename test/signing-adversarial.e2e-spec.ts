import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit } from '#crypto';
import type { CoordinatorFrame } from '#protocol';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';
import { scriptedSigners, ScriptedSigner } from './support/scripted-signer.js';

/**
 * What an adversarial client found against the signing core (issue 8, section 7), each checked through
 * the real coordinator, real sockets and the real database (both kinds, with DATABASE_URL).
 */
describe('signing against adversarial nodes', () => {
  let coord: TestCoordinator;
  let keyId: string;
  let signers: ScriptedSigner[];

  beforeAll(async () => {
    coord = await startTestCoordinator();
    ({ keyId, signers } = await scriptedSigners(coord, 2, 3));
  });
  afterAll(async () => {
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  const createRequest = async (message: string) => {
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, message, encoding: 'utf8', description: 'adversarial' });
    expect(res.status).toBe(201);
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === res.body.id)));
    return res.body.id;
  };
  const view = (id: string) => coord.api<{ status: string; culprits: { nodeId: string; reason: string }[]; attempts: { status: string; participants: string[] }[] }>('GET', `/v1/signing-requests/${id}`);
  const audit = async (id: string, action: string) =>
    (await coord.api<{ entries: unknown[] }>('GET', `/v1/audit?requestId=${id}&action=${action}&limit=100`)).body.entries;
  const errorsFor = (s: ScriptedSigner, id: string) => s.node.frames.filter((f): f is Extract<CoordinatorFrame, { type: 'error' }> => f.type === 'error' && f.requestId === id);

  it('reads a request id in any letter case as one request: frames under two spellings never race', async () => {
    const [a, b] = signers as [ScriptedSigner, ScriptedSigner];
    const requestId = await createRequest('two spellings');
    const upper = requestId.toUpperCase();
    a.commit(upper, a.makeCommitment());
    b.commit(requestId, b.makeCommitment());
    const ackA = await a.node.next('ack', (f) => f.of === 'request.commit' && f.requestId === requestId);
    expect(ackA.requestId).toBe(requestId);
    const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    const pb = await b.node.next('attempt.package', (f) => f.requestId === requestId);
    // A long-poll under the upper-case spelling, waiting while the shares arrive under both spellings at once.
    const started = Date.now();
    const poll = coord.api<{ status: string }>('GET', `/v1/signing-requests/${upper}?waitMs=20000`);
    a.node.send({ type: 'attempt.share', requestId: upper, attemptId: pa.attemptId.toUpperCase(), share: a.share(pa), nextCommitment: a.makeCommitment() });
    b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: b.share(pb), nextCommitment: b.makeCommitment() });
    expect((await poll).body.status).toBe('completed');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await audit(requestId, 'signature.produced')).toHaveLength(1);
    expect((await view(requestId)).body).toMatchObject({ status: 'completed', culprits: [] });
    expect([...errorsFor(a, requestId), ...errorsFor(b, requestId)]).toEqual([]);
  });

  it('refuses a resent commitment under identifier zero or another identifier instead of acknowledging it', async () => {
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    const requestId = await createRequest('identifier zero');
    const mine = a.makeCommitment();
    a.commit(requestId, mine);
    await a.node.next('ack', (f) => f.requestId === requestId);
    a.commit(requestId, { ...mine, identifier: '0'.repeat(64) });
    expect(await a.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'IDENTIFIER_MISMATCH' });
    b.commit(requestId, { ...b.makeCommitment(), identifier: c.identifier });
    expect(await b.node.next('error', (f) => f.requestId === requestId)).toMatchObject({ code: 'IDENTIFIER_MISMATCH' });
    expect((await view(requestId)).body.culprits.map((x) => x.reason)).toEqual(['invalid_commitment', 'invalid_commitment']);
  });

  it('uses each nonce element once per key, in either position: swapped or half-reused commitments are reuses', async () => {
    const [a, b] = signers as [ScriptedSigner, ScriptedSigner];
    const first = await createRequest('elements: first');
    const original = a.makeCommitment();
    a.commit(first, original);
    await a.node.next('ack', (f) => f.requestId === first);
    const fresh = () => commit('secp256k1', b.identifier, b.key.secretShares[b.identifier]!).commitment;
    const tries = [
      ['swapped', { identifier: a.identifier, hiding: original.binding, binding: original.hiding }],
      ['hiding reused as binding', { identifier: a.identifier, hiding: commit('secp256k1', a.identifier, a.key.secretShares[a.identifier]!).commitment.hiding, binding: original.hiding }],
      ['binding reused as hiding', { identifier: b.identifier, hiding: original.binding, binding: fresh().binding }],
    ] as const;
    for (const [what, commitment] of tries) {
      const requestId = await createRequest(`elements: ${what}`);
      const sender = commitment.identifier === a.identifier ? a : b;
      sender.commit(requestId, commitment);
      expect(await sender.node.next('error', (f) => f.requestId === requestId), what).toMatchObject({ code: 'COMMITMENT_REUSED' });
      expect((await view(requestId)).body.culprits, what).toEqual([expect.objectContaining({ reason: 'reused_commitment' })]);
    }
  });

  it('refuses text a database cannot store (a NUL in a decline reason) with a typed error, and carries on', async () => {
    const [a, b, c] = signers as [ScriptedSigner, ScriptedSigner, ScriptedSigner];
    const requestId = await createRequest('nul');
    c.decline(requestId, 'POLICY_DENIED', 'no\u0000thanks');
    expect(await c.node.next('error', (f) => f.inReplyTo === 'request.decline')).toMatchObject({ code: 'MALFORMED_FRAME' });
    expect(c.node.closeCode).toBeNull();
    const rest = await coord.api<{ error: { code: string } }>('POST', '/v1/signing-requests', { keyId, message: 'x', description: 'pay\u0000day' });
    expect(rest).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    a.commit(requestId, a.makeCommitment());
    b.commit(requestId, b.makeCommitment());
    const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
    const pb = await b.node.next('attempt.package', (f) => f.requestId === requestId);
    a.node.send({ type: 'attempt.share', requestId, attemptId: pa.attemptId, share: a.share(pa) });
    b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: b.share(pb) });
    await a.node.next('request.closed', (f) => f.requestId === requestId);
    expect((await view(requestId)).body).toMatchObject({ status: 'completed', culprits: [] });
  });

  it('serializes concurrent commitments per request, under any spelling of its id: every one acknowledged, one attempt per request', async () => {
    const requests = await Promise.all(Array.from({ length: 12 }, (_, i) => createRequest(`burst ${i}`)));
    for (const requestId of requests) {
      signers.forEach((s, i) => s.commit(i % 2 ? requestId.toUpperCase() : requestId, s.makeCommitment()));
    }
    for (const s of signers) {
      await Promise.all(requests.map((requestId) => s.node.next('ack', (f) => f.of === 'request.commit' && f.requestId === requestId)));
    }
    for (const requestId of requests) {
      expect(signers.flatMap((s) => errorsFor(s, requestId))).toEqual([]);
      const attempts = (await view(requestId)).body.attempts;
      // The third commitment waits for the stagger: the first attempt is making progress.
      expect(attempts).toHaveLength(1);
      expect(attempts[0]!.participants).toHaveLength(2);
    }
  });
});

describe('blameless refusals are counted in the database, across a coordinator restart', () => {
  let coord: TestCoordinator;
  afterAll(() => coord?.destroy());

  it('a node that keeps refusing blamelessly is blamed at the fourth refusal, even after a restart', async () => {
    coord = await startTestCoordinator();
    const setup = await scriptedSigners(coord, 2, 2);
    let [a, b] = setup.signers as [ScriptedSigner, ScriptedSigner];
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: setup.keyId, message: 'refuse', description: 'x', deadline: new Date(Date.now() + 60_000).toISOString() });
    const requestId = res.body.id;
    /** a and b commit; a refuses the package (NONCE_UNKNOWN); b answers the ended attempt late, with its next commitment. */
    const round = async (firstRound: boolean) => {
      a.commit(requestId, a.makeCommitment());
      if (firstRound) b.commit(requestId, b.makeCommitment());
      const pa = await a.node.next('attempt.package', (f) => f.requestId === requestId);
      const pb = await b.node.next('attempt.package', (f) => f.requestId === requestId && f.attemptId === pa.attemptId);
      a.node.send({ type: 'attempt.refuse', requestId, attemptId: pa.attemptId, code: 'NONCE_UNKNOWN', reason: 'restarted' });
      return { pa, pb };
    };
    const answerLate = async (pb: { attemptId: string; commitments: never[]; message: string }) => {
      await b.node.next('attempt.abort', (f) => f.attemptId === pb.attemptId);
      b.node.send({ type: 'attempt.share', requestId, attemptId: pb.attemptId, share: b.share(pb), nextCommitment: b.makeCommitment() });
      await b.node.next('ack', (f) => f.of === 'attempt.share' && f.attemptId === pb.attemptId);
      await a.node.next('request.propose', (f) => f.requestId === requestId);
    };
    await a.node.next('request.propose', (f) => f.requestId === requestId);
    await b.node.next('request.propose', (f) => f.requestId === requestId);
    for (let i = 0; i < 3; i++) {
      const { pb } = await round(i === 0);
      await answerLate(pb as never);
    }
    expect((await coord.api<{ status: string; culprits: unknown[] }>('GET', `/v1/signing-requests/${requestId}`)).body).toMatchObject({ status: 'committing', culprits: [] });

    // The coordinator restarts; the nodes reconnect and are asked again.
    a.node.close();
    b.node.close();
    coord = await coord.restart();
    const reconnect = async (s: ScriptedSigner, i: number) => {
      const node = await RawNode.connect(coord.wsUrl, setup.identities[i]);
      await node.next('auth.ok');
      await node.next('request.propose', (f) => f.requestId === requestId);
      return new ScriptedSigner(node, s.identifier, s.key);
    };
    [a, b] = [await reconnect(a, 0), await reconnect(b, 1)];
    await round(true);
    const closed = await b.node.next('request.closed', (f) => f.requestId === requestId);
    expect(closed.status).toBe('failed');
    const after = await coord.api<{ failure: { code: string }; culprits: { nodeId: string; reason: string }[] }>('GET', `/v1/signing-requests/${requestId}`);
    expect(after.body.failure.code).toBe('NOT_ENOUGH_SIGNERS');
    expect(after.body.culprits).toEqual([expect.objectContaining({ nodeId: setup.nodeIds[0], reason: 'refused_package' })]);
    a.node.close();
    b.node.close();
  });
});
