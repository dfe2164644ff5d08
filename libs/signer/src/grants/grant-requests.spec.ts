import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { agentNonce, signAgentRequest, verifyDecision } from '#intent';
import type { GrantScope, RequestProposeFrame } from '#protocol';
import { transferPayload } from '../testing/intent-fixtures.js';
import { testAgent, type TestAgent } from '../testing/grant-test-fixtures.js';
import { serviceFixture, type ServiceFixture } from '../testing/service-fixture.js';
import { testPolicy, type TestPolicy } from '../testing/test-policy.js';

/** Requests under a grant: the node's own copy, the agent's signature, its own counters, revocation at package time. */
describe('node grants: requests under a grant', () => {
  let f: ServiceFixture;
  let policy: TestPolicy;
  let agent: TestAgent;
  afterEach(() => f.close());

  /** A node whose policy denies every request, that approved (or not) a grant of TEST_SCOPE (+ `scope`). */
  const setup = async (o: { approve?: 'allow' | 'ask' | 'none'; durable?: boolean; scope?: Partial<GrantScope> } = {}) => {
    policy = testPolicy('deny');
    policy.answerGrants(o.approve === 'ask' ? 'ask' : 'allow');
    f = await serviceFixture({ policy, durable: o.durable ?? false });
    agent = testAgent(f.key.keyId, f.clock.now, o.scope);
    if (o.approve !== 'none') await f.grants.handlePropose(agent.proposeFrame());
  };
  const transfer = (amount: string) => f.propose({ payload: transferPayload(amount), chainId: 1 });
  const propose = (p: RequestProposeFrame) => f.service.handlePropose(p);
  const committed = async (p: RequestProposeFrame) => {
    const outcome = await propose(p);
    if (outcome.kind !== 'committed') throw new Error(JSON.stringify(outcome.frame));
    return outcome.frame;
  };
  const sign = async (p: RequestProposeFrame) => f.service.handlePackage(f.packageFor(p, (await committed(p)).commitment));

  it('inside the scope: approved without the operator or the policy, by rule grant:<id>, and counted when the share leaves', async () => {
    await setup();
    const p = agent.under(transfer('1000'), f.clock.now);
    const frame = await committed(p);
    expect(frame.decision).toMatchObject({ verdict: 'approve', by: 'policy', rule: `grant:${agent.grant.id}`, intentHash: p.intentHash, policyHash: policy.policyHash });
    expect(verifyDecision(f.identity.publicKey, frame.decision)).toBe(true);
    expect(policy.evaluations).toEqual([]);
    expect(f.grants.store.get(agent.grant.id)?.counted).toEqual([]);
    expect((await f.service.handlePackage(f.packageFor(p, frame.commitment))).kind).toBe('signed');
    expect(f.grants.store.get(agent.grant.id)?.counted.map((c) => c.requestId)).toEqual([p.requestId]);
    expect(policy.usage).toEqual([expect.objectContaining({ requestId: p.requestId, approvedBy: { grantId: agent.grant.id } })]);
  });

  it('outside the scope (over the per-request limit; expired at validUntil): the normal policy decides (here: deny)', async () => {
    await setup();
    const p = agent.under(transfer('1001'), f.clock.now);
    expect(await propose(p)).toMatchObject({ kind: 'declined', frame: { code: 'POLICY_DENIED' } });
    f.clock.now = agent.grant.validUntil;
    const late = agent.under(transfer('10'), f.clock.now);
    expect(await propose(late)).toMatchObject({ kind: 'declined', frame: { code: 'POLICY_DENIED' } });
    expect(policy.evaluations.map((e) => e.subject.requestId)).toEqual([p.requestId, late.requestId]);
  });

  it('a grant this node never saw, or has not approved: the normal policy decides', async () => {
    await setup({ approve: 'none' });
    expect(await propose(agent.under(transfer('10'), f.clock.now))).toMatchObject({ kind: 'declined', frame: { code: 'POLICY_DENIED' } });
    await f.grants.handlePropose({ ...agent.proposeFrame() });
    const asked = testAgent(f.key.keyId, f.clock.now);
    policy.answerGrants('ask');
    await f.grants.handlePropose(asked.proposeFrame());
    expect(await propose(asked.under(transfer('10'), f.clock.now))).toMatchObject({ kind: 'declined', frame: { code: 'POLICY_DENIED' } });
    expect(policy.evaluations).toHaveLength(2);
  });

  it("refuses a proposal whose grant is not the node's own copy (GRANT_MISMATCH)", async () => {
    await setup();
    const bigger = testAgent(f.key.keyId, f.clock.now, { maxRequests: 1000 }, { id: agent.grant.id });
    const p = transfer('10');
    expect(await propose({ ...p, grant: { ...bigger.authorize(p, f.clock.now), grantHash: agent.grantHash } })).toMatchObject({
      kind: 'declined',
      frame: { code: 'GRANT_MISMATCH' },
    });
    expect(await propose({ ...p, grant: bigger.authorize(p, f.clock.now) })).toMatchObject({ kind: 'declined', frame: { code: 'GRANT_MISMATCH' } });
  });

  it('refuses a forged, misdirected, replayed or stale agent authorization', async () => {
    await setup();
    const p = transfer('10');
    const forger = generateIdentity();
    const forged = signAgentRequest(forger.secretKey, { grantId: agent.grant.id, intentHash: p.intentHash, nonce: agentNonce(), timestamp: f.clock.now });
    const refused = async (frame: RequestProposeFrame, code: string) => expect(await propose(frame)).toMatchObject({ kind: 'declined', frame: { code } });
    await refused({ ...p, grant: { grant: agent.grant, grantHash: agent.grantHash, authorization: forged } }, 'AGENT_SIGNATURE_INVALID');
    await refused(agent.under(p, f.clock.now, { intentHash: 'cd'.repeat(32) }), 'AGENT_SIGNATURE_INVALID');
    await refused(agent.under(p, f.clock.now, { timestamp: f.clock.now - 5 * 60_000 - 1 }), 'AGENT_REQUEST_STALE');
    await refused(agent.under(p, f.clock.now, { timestamp: f.clock.now + 60_001 }), 'AGENT_REQUEST_STALE');
    const nonce = agentNonce();
    const first = agent.under(p, f.clock.now, { nonce });
    await committed(first);
    // The same request proposed again (a reconnect) is not a replay; another request with that nonce is.
    await committed(first);
    const second = transfer('20');
    await refused(agent.under(second, f.clock.now, { nonce }), 'AGENT_REQUEST_REPLAYED');
    expect(policy.evaluations).toEqual([]);
  });

  it('keeps its counters across a restart: a budget is not reset', async () => {
    await setup({ durable: true });
    const nonce = agentNonce();
    expect((await sign(agent.under(transfer('1000'), f.clock.now, { nonce }))).kind).toBe('signed');
    expect((await sign(agent.under(transfer('1000'), f.clock.now))).kind).toBe('signed');
    await f.restart();
    // The nonces survive too: the first request's nonce on another request is a replay.
    expect(await propose(agent.under(transfer('1'), f.clock.now, { nonce }))).toMatchObject({ kind: 'declined', frame: { code: 'AGENT_REQUEST_REPLAYED' } });
    // 2000 of 2500 spent today: 1000 more is over the budget (the policy then denies), 500 fits.
    expect(await propose(agent.under(transfer('1000'), f.clock.now))).toMatchObject({ kind: 'declined', frame: { code: 'POLICY_DENIED' } });
    expect(policy.evaluations).toHaveLength(1);
    expect((await sign(agent.under(transfer('500'), f.clock.now))).kind).toBe('signed');
    expect(f.grants.store.get(agent.grant.id)?.counted).toHaveLength(3);
    // maxRequests 3: a fourth, however small, is outside.
    await f.restart();
    expect(await propose(agent.under(transfer('1'), f.clock.now))).toMatchObject({ kind: 'declined', frame: { code: 'POLICY_DENIED' } });
  });

  it('re-checks the scope when the share would leave: two requests racing for the last of a budget, one signs', async () => {
    await setup({ scope: { budgets: [{ asset: '0x00000000000000000000000000000000000000a1', amountField: 'amount', amount: '1500', periodMs: 86_400_000, start: 0 }] } });
    const a = agent.under(transfer('1000'), f.clock.now);
    const b = agent.under(transfer('1000'), f.clock.now);
    const ca = await committed(a);
    const cb = await committed(b);
    expect((await f.service.handlePackage(f.packageFor(a, ca.commitment))).kind).toBe('signed');
    const late = await f.service.handlePackage(f.packageFor(b, cb.commitment));
    expect(late).toMatchObject({ kind: 'refused', frame: { code: 'POLICY_DENIED', reason: expect.stringContaining('OVER_BUDGET') as string } });
    expect(f.nonces.status(b.requestId, cb.commitment)).toBe('consumed');
    expect(f.grants.store.get(agent.grant.id)?.counted.map((c) => c.requestId)).toEqual([a.requestId]);
  });

  it('a grant revoked while a package is in flight: the share never leaves, and the request is declined from then on', async () => {
    await setup();
    const p = agent.under(transfer('100'), f.clock.now);
    const { commitment } = await committed(p);
    await f.grants.revokeByOperator(agent.grant.id, 'stop the bot');
    const refused = await f.service.handlePackage(f.packageFor(p, commitment));
    expect(refused).toMatchObject({ kind: 'refused', frame: { code: 'GRANT_REVOKED', reason: expect.stringContaining('stop the bot') as string } });
    expect(f.nonces.status(p.requestId, commitment)).toBe('consumed');
    expect(await propose(p)).toMatchObject({ kind: 'declined', frame: { code: 'GRANT_REVOKED' } });
    expect(await propose(agent.under(transfer('100'), f.clock.now))).toMatchObject({ kind: 'declined', frame: { code: 'GRANT_REVOKED' } });
    expect(f.grants.store.get(agent.grant.id)?.counted).toEqual([]);
  });

  it("the coordinator's revocation stops a package in flight too", async () => {
    await setup();
    const p = agent.under(transfer('100'), f.clock.now);
    const { commitment } = await committed(p);
    await f.grants.revokedByCoordinator({ v: 1, type: 'grant.revoked', grantId: agent.grant.id, reason: 'admin' });
    expect(await f.service.handlePackage(f.packageFor(p, commitment))).toMatchObject({ kind: 'refused', frame: { code: 'GRANT_REVOKED' } });
  });
});
