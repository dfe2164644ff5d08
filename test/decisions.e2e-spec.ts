import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionTranscript } from '#intent';
import type { CoordinatorFrame, SignedDecision } from '#protocol';
import { verifyEd25519 } from '#verify';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { SCRIPTED_POLICY_HASH, scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';

type DecisionRow = { nodeId: string; label: string; state: string; decision: SignedDecision | null; awaiting: { rule: string | null; reason: string; since: string } | null };
type View = {
  status: string;
  failure: { code: string; reason: string } | null;
  culprits: { nodeId: string; reason: string; detail?: string }[];
  attempts: unknown[];
  decisions: DecisionRow[];
};
type AuditEntry = { nodeId: string | null; actor: { kind: string; id: string }; details: Record<string, unknown> };

/**
 * Signed decisions at the coordinator (issue 9, section 3), through the real app, real sockets and the
 * real database: a commitment counts only with the node's signed approval of the request's intent; a
 * decline its policy or operator made carries its signed decline; a node's wait for its operator shows in
 * the request's view; more than n - t declines reject the request at once; every accepted decision is in
 * the audit log, checkable offline.
 */
describe('signed decisions, awaiting operators and the rejection quorum', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let nodeIds: string[];
  let keyId: string;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    ({ keyId, signers, nodeIds } = await scriptedSigners(coord, 2, 3));
  });
  afterAll(async () => {
    // Every frame the coordinator sent matched the protocol's schemas.
    expect(signers.flatMap((s) => s.node.invalidFrames)).toEqual([]);
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  const createRequest = async (text: string) => {
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text }, description: 'decisions' });
    expect(res.status).toBe(201);
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === res.body.id)));
    return res.body.id;
  };
  const view = async (id: string) => (await coord.api<View>('GET', `/v1/signing-requests/${id}`)).body;
  const audit = async (query: string) => (await coord.api<{ entries: AuditEntry[] }>('GET', `/v1/audit?${query}&limit=500`)).body.entries;
  const answer = (s: ScriptedSigner, id: string, of: string) =>
    s.node.next('ack', (f) => f.of === of && f.requestId === id).catch(() => null) as Promise<CoordinatorFrame | null>;
  const refusal = (s: ScriptedSigner, id: string) => s.node.next('error', (f) => f.requestId === id);
  const a = () => signers[0]!;
  const b = () => signers[1]!;
  const c = () => signers[2]!;

  it('refuses a forged, altered, replayed or borrowed approval: DECISION_INVALID, nothing counted, connection open, audited', async () => {
    const id = await createRequest('forged approvals');
    const other = await createRequest('another request');
    const good = a().decision(id);
    const tries: [string, ScriptedSigner, SignedDecision][] = [
      ['a forged signature', a(), { ...good, signature: 'ab'.repeat(64) }],
      ['a field changed after signing', a(), { ...good, rule: 'something-else' }],
      ['a decision for another request (replayed)', a(), a().decision(other)],
      ['a decision for another intent', a(), a().decision(id, 'approve', { intentHash: a().intentHashOf(other) })],
      ["another node's decision", b(), good],
      ['a decline sent as an approval', b(), b().decision(id, 'decline')],
    ];
    const kept = a().makeCommitment();
    for (const [what, s, decision] of tries) {
      s.commit(id, s === a() ? kept : s.makeCommitment(), decision);
      expect(await refusal(s, id), what).toMatchObject({ code: 'DECISION_INVALID', inReplyTo: 'request.commit' });
      expect(s.node.closeCode, what).toBeNull();
    }
    // Nothing was counted: c's valid commitment alone starts no attempt, and a's refused commitment was not
    // kept (sent again with a valid approval it is accepted, not a reuse) and then completes the pair.
    c().commit(id);
    await answer(c(), id, 'request.commit');
    expect((await view(id)).attempts).toEqual([]);
    a().commit(id, kept);
    await answer(a(), id, 'request.commit');
    const packages = await Promise.all([a(), c()].map((s) => s.node.next('attempt.package', (f) => f.requestId === id)));
    for (const [i, s] of [a(), c()].entries()) s.node.send({ type: 'attempt.share', requestId: id, attemptId: packages[i]!.attemptId, share: s.share(packages[i]!) });
    await a().node.next('request.closed', (f) => f.requestId === id && f.status === 'completed');

    const refused = await audit(`requestId=${id}&action=decision.refused`);
    expect(refused).toHaveLength(tries.length);
    expect(refused.map((e) => e.details.problem)).toEqual([
      expect.stringMatching(/does not verify/),
      expect.stringMatching(/does not verify/),
      expect.stringMatching(/for request/),
      expect.stringMatching(/for intent/),
      expect.stringMatching(/does not verify/),
      expect.stringMatching(/verdict approve, not decline/),
    ]);
    // Only the two genuine approvals were recorded.
    expect((await audit(`requestId=${id}&action=request.approved`)).map((e) => e.nodeId).sort()).toEqual([nodeIds[0], nodeIds[2]].sort());
  });

  it('needs the signed decision on a policy or operator decline, refuses a contrary one, and takes a technical decline without one', async () => {
    const id = await createRequest('declines');
    c().node.send({ type: 'request.decline', requestId: id, code: 'POLICY_DENIED', reason: 'over the limit' });
    expect(await refusal(c(), id)).toMatchObject({ code: 'DECISION_INVALID', inReplyTo: 'request.decline' });
    const forged = { ...c().decision(id, 'decline'), signature: 'cd'.repeat(64) };
    c().node.send({ type: 'request.decline', requestId: id, code: 'OPERATOR_REJECTED', reason: 'no', decision: forged });
    expect(await refusal(c(), id)).toMatchObject({ code: 'DECISION_INVALID' });
    expect((await view(id)).culprits).toEqual([]);

    // a approved: its first decision stands, a signed decline afterwards is refused.
    a().commit(id);
    await answer(a(), id, 'request.commit');
    a().decline(id, 'POLICY_DENIED', 'changed my mind');
    expect(await refusal(a(), id)).toMatchObject({ code: 'DECISION_INVALID', message: expect.stringMatching(/already decided approve/) as unknown });

    c().decline(id, 'OPERATOR_REJECTED', 'the operator said no');
    await answer(c(), id, 'request.decline');
    const after = await view(id);
    expect(after.culprits).toEqual([expect.objectContaining({ nodeId: nodeIds[2], reason: 'declined', detail: 'OPERATOR_REJECTED: the operator said no' })]);
    expect(after.decisions[2]).toMatchObject({ state: 'declined', decision: { verdict: 'decline', by: 'operator', reason: 'the operator said no' } });
    expect(after.decisions[0]).toMatchObject({ state: 'approved', decision: { verdict: 'approve' } });
    // One decline in 2-of-3 is not a rejection (n - t = 1): the request is still open.
    expect(after.status).toBe('committing');

    // b declines for a technical reason, with no decision: the request now has two declines out of three.
    b().decline(id, 'KEY_NOT_HELD', 'no share of this key');
    const closed = await a().node.next('request.closed', (f) => f.requestId === id);
    expect(closed).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^rejected/) as unknown });
  });

  it('shows in the view who was proposed, who waits for its operator (acked, audited) and who approved', async () => {
    const id = await createRequest('awaiting the operator');
    expect((await view(id)).decisions.map((d) => d.state)).toEqual(['proposed', 'proposed', 'proposed']);
    const awaiting = { type: 'request.awaiting' as const, requestId: id, intentHash: b().intentHashOf(id), policyHash: SCRIPTED_POLICY_HASH, rule: 'large-transfer', reason: 'over 1000 USDC: ask the operator' };
    b().node.send(awaiting);
    expect(await answer(b(), id, 'request.awaiting')).not.toBeNull();
    b().node.send(awaiting);
    expect(await answer(b(), id, 'request.awaiting')).not.toBeNull();
    c().node.send({ ...awaiting, intentHash: '00'.repeat(32) });
    expect(await refusal(c(), id)).toMatchObject({ code: 'DECISION_INVALID', inReplyTo: 'request.awaiting' });

    const waiting = await view(id);
    expect(waiting.decisions.map((d) => [d.nodeId, d.label, d.state])).toEqual([
      [nodeIds[0], 'node-1', 'proposed'],
      [nodeIds[1], 'node-2', 'awaiting_operator'],
      [nodeIds[2], 'node-3', 'proposed'],
    ]);
    expect(waiting.decisions[1]!.awaiting).toMatchObject({ rule: 'large-transfer', reason: 'over 1000 USDC: ask the operator' });
    expect(await audit(`requestId=${id}&action=request.awaiting_operator`)).toEqual([
      expect.objectContaining({ nodeId: nodeIds[1], details: expect.objectContaining({ rule: 'large-transfer', policyHash: SCRIPTED_POLICY_HASH }) as unknown }),
    ]);

    const approvalA = a().decision(id);
    a().commit(id, a().makeCommitment(), approvalA);
    await answer(a(), id, 'request.commit');
    // The operator approves on b's host: b commits with its operator's signed approval; its wait ends.
    const approvalB = b().decision(id, 'approve', { by: 'operator', rule: 'large-transfer', reason: 'approved by alice' });
    b().commit(id, b().makeCommitment(), approvalB);
    const [pa, pb] = await Promise.all([a(), b()].map((s) => s.node.next('attempt.package', (f) => f.requestId === id)));
    const signing = await view(id);
    expect(signing.decisions.map((d) => d.state)).toEqual(['approved', 'approved', 'proposed']);
    expect(signing.decisions[0]!.decision).toEqual(approvalA);
    expect(signing.decisions[1]).toMatchObject({ decision: approvalB, awaiting: null });
    // An awaiting notice after the node decided is refused.
    b().node.send(awaiting);
    expect(await refusal(b(), id)).toMatchObject({ code: 'DECISION_INVALID' });
    a().node.send({ type: 'attempt.share', requestId: id, attemptId: pa!.attemptId, share: a().share(pa!) });
    b().node.send({ type: 'attempt.share', requestId: id, attemptId: pb!.attemptId, share: b().share(pb!) });
    await c().node.next('request.closed', (f) => f.requestId === id && f.status === 'completed');
    expect((await audit(`requestId=${id}&action=request.approved`)).find((e) => e.nodeId === nodeIds[1])?.details).toMatchObject({ awaitedSince: expect.any(String) as unknown });
  });

  it('rejects a request at once when more than n - t members decline (REJECTED, naming them); every node is told', async () => {
    const id = await createRequest('rejected by two');
    b().decline(id, 'POLICY_DENIED', 'recipient not on the allowlist');
    await answer(b(), id, 'request.decline');
    expect((await view(id)).status).toBe('committing');
    c().decline(id, 'OPERATOR_REJECTED', 'not this week');
    const closed = await Promise.all(signers.map((s) => s.node.next('request.closed', (f) => f.requestId === id)));
    expect(closed.every((f) => f.status === 'failed')).toBe(true);
    const done = await view(id);
    expect(done).toMatchObject({ status: 'failed', failure: { code: 'REJECTED' } });
    expect(done.failure!.reason).toContain(`node-2 (${nodeIds[1]})`);
    expect(done.failure!.reason).toContain(`node-3 (${nodeIds[2]})`);
    expect(done.culprits.map((x) => [x.nodeId, x.reason])).toEqual([
      [nodeIds[1], 'declined'],
      [nodeIds[2], 'declined'],
    ]);
    expect(done.decisions.map((d) => d.state)).toEqual(['proposed', 'declined', 'declined']);
    const rejected = await audit(`requestId=${id}&action=request.rejected`);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.details).toMatchObject({ code: 'REJECTED', decliners: [nodeIds[1], nodeIds[2]] });
    expect(await audit(`requestId=${id}&action=request.failed`)).toEqual([]);
    // Frames for it now get REQUEST_FINISHED.
    a().commit(id);
    expect(await refusal(a(), id)).toMatchObject({ code: 'REQUEST_FINISHED' });
  });

  it("keeps every accepted decision in the audit log with the node's key: each verifies offline with an independent Ed25519", async () => {
    const entries = [...(await audit('action=request.approved')), ...(await audit('action=request.declined'))].filter((e) => e.details.decision);
    // a: 3 approvals, b: 1 approval and 1 decline, c: 1 approval and 2 declines (the suite's requests above).
    expect(entries.length).toBeGreaterThanOrEqual(8);
    const enrolled = new Map((await coord.api<{ id: string; publicKey: string }[]>('GET', '/v1/nodes')).body.map((n) => [n.id, n.publicKey]));
    for (const entry of entries) {
      const decision = entry.details.decision as SignedDecision;
      const identityKey = entry.details.identityKey as string;
      // The key in the entry is the node's enrolled identity key, and the node itself is the actor.
      expect(identityKey).toBe(enrolled.get(entry.nodeId!));
      expect(entry.actor).toMatchObject({ kind: 'node', id: entry.nodeId });
      // The transcript, rebuilt by hand: "roundtable/decision/v1\n" + canonical JSON of the signed fields.
      const { signature, ...signedFields } = decision;
      const json = `{${Object.keys(signedFields)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${JSON.stringify(signedFields[k as keyof typeof signedFields])}`)
        .join(',')}}`;
      const transcript = new TextEncoder().encode(`roundtable/decision/v1\n${json}`);
      expect(Buffer.from(decisionTranscript(decision)).equals(Buffer.from(transcript))).toBe(true);
      expect(verifyEd25519(signature, transcript, identityKey)).toBe(true);
      // And it is bound: the same signature does not verify another verdict, or under another node's key.
      const flipped = { ...signedFields, verdict: decision.verdict === 'approve' ? ('decline' as const) : ('approve' as const) };
      expect(verifyEd25519(signature, decisionTranscript(flipped), identityKey)).toBe(false);
      const otherKey = [...enrolled.entries()].find(([id]) => id !== entry.nodeId)![1];
      expect(verifyEd25519(signature, transcript, otherKey)).toBe(false);
    }
    expect((await coord.api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });
});
