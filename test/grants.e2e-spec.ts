import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { Agent, transfer, USDC } from './support/grants.js';
import { RawNode } from './support/raw-node.js';
import { scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';

type AuditEntry = { action: string; nodeId: string | null; actor: { kind: string; id: string }; details: Record<string, unknown> };

const TEXT_SCOPE = { kinds: ['text' as const] };

/**
 * Session-key grants at the coordinator (issue 10, sections 1 and 3), through the real app, real sockets
 * and the real database, with scripted nodes: proposals to every member, signed decisions (active after
 * t approvals, rejected after more than n - t declines), forged or borrowed decisions refused, re-proposal
 * on reconnect, and revocation by an admin and by a node's operator (the kill switch).
 */
describe('grants: proposals, decisions and revocation', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let nodeIds: string[];
  let keyId: string;
  const a = () => signers[0]!;
  const b = () => signers[1]!;
  const c = () => signers[2]!;
  const audit = async (action: string) => (await coord.api<{ entries: AuditEntry[] }>('GET', `/v1/audit?action=${action}&limit=500`)).body.entries;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    ({ keyId, signers, nodeIds } = await scriptedSigners(coord, 2, 3));
  });
  afterAll(async () => {
    expect(signers.flatMap((s) => s.node.invalidFrames)).toEqual([]);
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  it('proposes a grant to every member and activates it once t approved, with the signed decisions in its view', async () => {
    const agent = new Agent(coord);
    const created = await agent.propose(keyId, TEXT_SCOPE);
    expect(created).toMatchObject({ status: 'proposed', grant: { keyId, proposer: 'admin' }, threshold: 2, members: 3 });
    expect(created.approvals.map((x) => x.state)).toEqual(['proposed', 'proposed', 'proposed']);
    expect(created.scopeText.length).toBeGreaterThan(0);
    for (const s of signers) expect((await s.grantProposal(agent.grantId)).grantHash).toBe(created.grantHash);

    expect(await a().decideGrant(agent.grantId)).toMatchObject({ type: 'ack', of: 'grant.decision' });
    expect((await agent.view()).status).toBe('proposed');
    c().node.send({ type: 'grant.awaiting', grantId: agent.grantId, grantHash: created.grantHash, policyHash: 'ab'.repeat(32), rule: 'ask-grants', reason: 'the operator decides' });
    expect(await c().grantAnswer(agent.grantId, 'grant.awaiting')).toMatchObject({ type: 'ack' });
    expect(await b().decideGrant(agent.grantId)).toMatchObject({ type: 'ack' });
    const view = await agent.view();
    expect(view.status).toBe('active');
    expect(view.approvals.map((x) => x.state)).toEqual(['approved', 'approved', 'awaiting_operator']);
    expect(view.approvals[0]!.decision).toMatchObject({ grantId: agent.grantId, grantHash: created.grantHash, verdict: 'approve' });
    // An exact duplicate is acknowledged again, changing nothing.
    const again = await a().grantDecision(agent.grantId, 'approve', { decidedAt: 1 });
    expect(await a().decideGrant(agent.grantId, 'approve', again)).toMatchObject({ type: 'ack' });
    expect((await audit('grant.activated')).some((e) => e.details.grantId === agent.grantId)).toBe(true);
  });

  it('rejects a grant once more than n - t members declined', async () => {
    const agent = new Agent(coord);
    await agent.propose(keyId, TEXT_SCOPE);
    expect(await a().decideGrant(agent.grantId, 'decline')).toMatchObject({ type: 'ack' });
    expect((await agent.view()).status).toBe('proposed');
    expect(await b().decideGrant(agent.grantId, 'decline')).toMatchObject({ type: 'ack' });
    expect((await agent.view()).status).toBe('rejected');
    const res = await agent.request({ kind: 'text', text: 'under a rejected grant' });
    expect([res.status, res.body.error?.code]).toEqual([403, 'GRANT_NOT_ACTIVE']);
  });

  it('refuses forged, altered, borrowed and contrary grant decisions: DECISION_INVALID, nothing counted, audited', async () => {
    const agent = new Agent(coord);
    const other = new Agent(coord);
    await agent.propose(keyId, TEXT_SCOPE);
    await other.propose(keyId, TEXT_SCOPE);
    const good = await a().grantDecision(agent.grantId);
    const tries: [string, ScriptedSigner, string, Parameters<ScriptedSigner['decideGrant']>[2]][] = [
      ['a forged signature', a(), agent.grantId, { ...good, signature: 'ab'.repeat(64) }],
      ['a field changed after signing', a(), agent.grantId, { ...good, rule: 'other' }],
      ['a decision on another grant (replayed)', a(), agent.grantId, await a().grantDecision(other.grantId)],
      ['a decision over another grant hash', a(), agent.grantId, await a().grantDecision(agent.grantId, 'approve', { grantHash: 'cd'.repeat(32) })],
      ["another node's decision", b(), agent.grantId, good],
    ];
    const before = (await audit('grant.decision_refused')).length;
    for (const [what, s, grantId, decision] of tries) {
      expect(await s.decideGrant(grantId, 'approve', decision), what).toMatchObject({ type: 'error', code: 'DECISION_INVALID' });
      expect(s.node.closeCode, what).toBeNull();
    }
    expect((await audit('grant.decision_refused')).length - before).toBe(tries.length);
    expect((await agent.view()).approvals.map((x) => x.state)).toEqual(['proposed', 'proposed', 'proposed']);
    // The first decision stands: a decline after an approval is refused.
    expect(await c().decideGrant(agent.grantId)).toMatchObject({ type: 'ack' });
    expect(await c().decideGrant(agent.grantId, 'decline')).toMatchObject({ type: 'error', code: 'DECISION_INVALID', message: expect.stringMatching(/first decision stands/) as unknown });
  });

  it('proposes an undecided grant again to a member that reconnects', async () => {
    const identity = generateIdentity();
    const enrolled = await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey: identity.publicKey, label: 'late' });
    const { dealtKeyRegistration } = await import('./support/keys.js');
    const reg = dealtKeyRegistration('secp256k1', 2, [nodeIds[0]!, enrolled.body.id]);
    const key2 = (await coord.api<{ id: string }>('POST', '/v1/keys', reg.body)).body.id;
    const agent = new Agent(coord);
    await agent.propose(key2, TEXT_SCOPE);
    expect((await agent.view()).approvals.map((x) => x.state)).toEqual(['proposed', 'pending']);
    const late = await RawNode.connect(coord.wsUrl, identity);
    await late.next('auth.ok');
    const proposal = await late.next('grant.propose', (f) => f.grant.id === agent.grantId);
    expect(proposal.grant.keyId).toBe(key2);
    expect((await agent.view()).approvals.map((x) => x.state)).toEqual(['proposed', 'proposed']);
    late.close();
  });

  it('an admin revokes: revoked at once, pending requests cancelled, every node told, the next request refused', async () => {
    const agent = new Agent(coord);
    await agent.activeGrant(keyId, TEXT_SCOPE, [a(), b()]);
    const accepted = await agent.request({ kind: 'text', text: 'pending when revoked' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    const requestId = accepted.body.id!;
    const res = await coord.api<{ status: string; revokedBy: string; revokeReason: string }>('POST', `/v1/grants/${agent.grantId}/revoke`, { reason: 'compromised laptop' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'revoked', revokedBy: 'admin', revokeReason: 'compromised laptop' });
    for (const s of signers) {
      expect(await s.node.next('grant.revoked', (f) => f.grantId === agent.grantId)).toMatchObject({ reason: 'compromised laptop' });
      await s.node.next('request.closed', (f) => f.requestId === requestId && f.status === 'cancelled');
    }
    expect((await coord.api<{ status: string }>('GET', `/v1/signing-requests/${requestId}`)).body.status).toBe('cancelled');
    const next = await agent.request({ kind: 'text', text: 'after revocation' });
    expect([next.status, next.body.error?.code]).toEqual([403, 'GRANT_REVOKED']);
    expect((await audit('grant.revoked')).some((e) => e.details.grantId === agent.grantId && e.actor.kind === 'admin')).toBe(true);
  });

  it("a node's operator revokes (the kill switch): checked under its identity key, revoked for everyone, the others told", async () => {
    const agent = new Agent(coord);
    await agent.activeGrant(keyId, { kinds: ['eip712'], domains: [{ verifyingContract: USDC }], primaryTypes: ['Transfer'], chainIds: [1] }, [a(), b()]);
    const pending = await agent.request(transfer('5'), { chainId: 1 });
    expect(pending.status, JSON.stringify(pending.body)).toBe(201);
    // Signed by another key: refused, nothing revoked.
    expect(await c().revokeGrant(agent.grantId, 'forged', generateIdentity().secretKey)).toMatchObject({ type: 'error', code: 'DECISION_INVALID' });
    expect((await agent.view()).status).toBe('active');

    expect(await c().revokeGrant(agent.grantId, 'operator pulled the plug')).toMatchObject({ type: 'ack', of: 'grant.revoke' });
    const view = await agent.view();
    expect(view).toMatchObject({ status: 'revoked', revokedBy: `node:${nodeIds[2]}` });
    for (const s of [a(), b()]) await s.node.next('grant.revoked', (f) => f.grantId === agent.grantId);
    await a().node.next('request.closed', (f) => f.requestId === pending.body.id && f.status === 'cancelled');
    const next = await agent.request(transfer('5'), { chainId: 1 });
    expect(next.body.error?.code).toBe('GRANT_REVOKED');
    // Sent again: acknowledged, nothing more happens.
    expect(await c().revokeGrant(agent.grantId, 'again')).toMatchObject({ type: 'ack' });
  });

  it('refuses a grant the coordinator must not propose: too long, already over, eip712 without domains, an unknown key', async () => {
    const base = { keyId, grantee: { kind: 'ed25519', publicKey: generateIdentity().publicKey }, label: 'bad', scope: TEXT_SCOPE };
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['validity over the maximum', { ...base, validUntil: Date.now() + 91 * 86_400_000 }, 400, 'VALIDATION_FAILED'],
      ['validUntil in the past', { ...base, validUntil: Date.now() - 1000 }, 400, 'VALIDATION_FAILED'],
      ['validUntil before validAfter', { ...base, validAfter: Date.now() + 7_200_000, validUntil: Date.now() + 3_600_000 }, 400, 'VALIDATION_FAILED'],
      ['eip712 without domains', { ...base, validUntil: Date.now() + 60_000, scope: { kinds: ['eip712'] } }, 400, 'VALIDATION_FAILED'],
      ['an unknown key', { ...base, keyId: '00000000-0000-4000-8000-000000000000', validUntil: Date.now() + 60_000 }, 404, 'KEY_NOT_FOUND'],
    ];
    for (const [what, body, status, code] of cases) {
      const res = await coord.api<{ error: { code: string } }>('POST', '/v1/grants', body);
      expect([res.status, res.body.error?.code], what).toEqual([status, code]);
    }
  });
});
