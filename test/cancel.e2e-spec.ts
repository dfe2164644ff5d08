import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningService } from '#domain';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { SCRIPTED_POLICY_HASH, scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';

type View = {
  status: string;
  failure: { code: string; reason: string } | null;
  attempts: { status: string }[];
  decisions: { state: string }[];
  completedAt: string | null;
};
type AuditEntry = { actor: { kind: string; id: string }; details: Record<string, unknown> };

/** `POST /v1/signing-requests/:id/cancel` (issue 9, section 3), through the real app, sockets and database. */
describe('cancelling a signing request', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let keyId: string;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    ({ keyId, signers } = await scriptedSigners(coord, 2, 3));
  });
  afterAll(async () => {
    expect(signers.flatMap((s) => s.node.invalidFrames)).toEqual([]);
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  const createRequest = async (text: string) => {
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text }, description: 'cancel' });
    expect(res.status).toBe(201);
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === res.body.id)));
    return res.body.id;
  };
  const cancel = (id: string, body?: unknown) => coord.api<View & { error?: { code: string } }>('POST', `/v1/signing-requests/${id}/cancel`, body);
  const a = () => signers[0]!;
  const b = () => signers[1]!;
  const c = () => signers[2]!;

  it('cancels a request mid-attempt: attempts aborted, nodes told, nothing signs it afterwards, audited with the actor', async () => {
    const id = await createRequest('cancel while signing');
    a().commit(id);
    b().commit(id);
    const [pa, pb] = await Promise.all([a(), b()].map((s) => s.node.next('attempt.package', (f) => f.requestId === id)));
    // c waits for its operator: the cancel ends that wait too.
    c().node.send({ type: 'request.awaiting', requestId: id, intentHash: c().intentHashOf(id), policyHash: SCRIPTED_POLICY_HASH, rule: null, reason: 'ask' });
    await c().node.next('ack', (f) => f.of === 'request.awaiting' && f.requestId === id);

    const res = await cancel(id, { reason: 'wrong recipient' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', failure: { code: 'REQUEST_CANCELLED', reason: expect.stringMatching(/wrong recipient/) as unknown } });
    expect(res.body.attempts.map((x) => x.status)).toEqual(['aborted']);
    expect(res.body.completedAt).not.toBeNull();
    // Every node that was proposed the request is told, so that it discards its nonces and its pending approval.
    const closed = await Promise.all(signers.map((s) => s.node.next('request.closed', (f) => f.requestId === id)));
    expect(closed.map((f) => f.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);

    // Shares for the aborted attempt, and any frame for the request, are refused: it can never be signed.
    a().node.send({ type: 'attempt.share', requestId: id, attemptId: pa!.attemptId, share: a().share(pa!) });
    b().node.send({ type: 'attempt.share', requestId: id, attemptId: pb!.attemptId, share: b().share(pb!) });
    for (const s of [a(), b()]) expect(await s.node.next('error', (f) => f.requestId === id)).toMatchObject({ code: 'REQUEST_FINISHED' });
    c().commit(id);
    expect(await c().node.next('error', (f) => f.requestId === id)).toMatchObject({ code: 'REQUEST_FINISHED' });
    const after = (await coord.api<View & { signature: string | null }>('GET', `/v1/signing-requests/${id}`)).body;
    expect(after).toMatchObject({ status: 'cancelled', signature: null });

    // A finished request cannot be cancelled again.
    expect(await cancel(id)).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_FINISHED' } } });

    const entries = (await coord.api<{ entries: AuditEntry[] }>('GET', `/v1/audit?requestId=${id}&action=request.cancelled`)).body.entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.actor.kind).toBe('admin');
    expect(entries[0]!.details).toMatchObject({ reason: 'wrong recipient', by: { kind: 'admin' }, status: 'signing' });
  });

  it('cancels a request nobody answered yet, without a reason; a completed one is REQUEST_FINISHED (409)', async () => {
    const id = await createRequest('cancel at once');
    const res = await cancel(id);
    expect(res).toMatchObject({ status: 200, body: { status: 'cancelled', failure: { code: 'REQUEST_CANCELLED' } } });
    await Promise.all(signers.map((s) => s.node.next('request.closed', (f) => f.requestId === id && f.status === 'cancelled')));

    const done = await createRequest('completed first');
    a().commit(done);
    c().commit(done);
    const [pa, pc] = await Promise.all([a(), c()].map((s) => s.node.next('attempt.package', (f) => f.requestId === done)));
    a().node.send({ type: 'attempt.share', requestId: done, attemptId: pa!.attemptId, share: a().share(pa!) });
    c().node.send({ type: 'attempt.share', requestId: done, attemptId: pc!.attemptId, share: c().share(pc!) });
    await b().node.next('request.closed', (f) => f.requestId === done && f.status === 'completed');
    expect(await cancel(done)).toMatchObject({ status: 409, body: { error: { code: 'REQUEST_FINISHED' } } });
    expect((await coord.api<View>('GET', `/v1/signing-requests/${done}`)).body.status).toBe('completed');
  });

  it('answers an unknown request REQUEST_NOT_FOUND and a bad body VALIDATION_FAILED', async () => {
    expect(await cancel('3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41')).toMatchObject({ status: 404, body: { error: { code: 'REQUEST_NOT_FOUND' } } });
    const id = await createRequest('bad cancel body');
    expect(await cancel(id, { reason: 'x', extra: true })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(await cancel(id, { reason: 7 })).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect((await coord.api<View>('GET', `/v1/signing-requests/${id}`)).body.status).not.toBe('cancelled');
  });

  it('lets a proposer cancel only its own requests: another principal\'s reads as REQUEST_NOT_FOUND', async () => {
    const id = await createRequest('proposer scope');
    const service = coord.app.get(SigningService);
    const proposer = { kind: 'principal' as const, id: '5121bfa7-917c-4737-a55f-4065fa135684', role: 'proposer' as const };
    await expect(service.cancel(id, { actor: proposer, proposer: `principal:${proposer.id}` })).rejects.toMatchObject({ code: 'REQUEST_NOT_FOUND' });
    expect((await coord.api<View>('GET', `/v1/signing-requests/${id}`)).body.status).not.toBe('cancelled');
    // The request was proposed with the admin token: scoped to `admin`, the cancel goes through.
    const cancelled = await service.cancel(id, { actor: { kind: 'admin', id: 'admin-token' }, proposer: 'admin', reason: 'scoped' });
    expect(cancelled).toMatchObject({ status: 'cancelled', failureCode: 'REQUEST_CANCELLED' });
  });
});
