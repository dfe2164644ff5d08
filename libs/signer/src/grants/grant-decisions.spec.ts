import { afterEach, describe, expect, it } from 'vitest';
import { verifyGrantDecision, verifyGrantRevocation } from '#intent';
import { GrantDecisionFrame, GrantRevokeFrame } from '#protocol';
import { ApprovalsRefusal } from '../approvals/approvals-protocol.js';
import { testAgent, type TestAgent } from '../testing/grant-test-fixtures.js';
import { serviceFixture, type ServiceFixture } from '../testing/service-fixture.js';
import { testPolicy, type TestPolicy } from '../testing/test-policy.js';

/** A node deciding on proposed grants: its own hash, its grant rules, its operator, and revocation. */
describe('node grants: decisions and revocation', () => {
  let f: ServiceFixture;
  let policy: TestPolicy;
  let agent: TestAgent;
  afterEach(() => f.close());

  const setup = async (grants: 'allow' | 'deny' | 'ask', durable = false) => {
    policy = testPolicy('deny');
    policy.answerGrants(grants);
    f = await serviceFixture({ policy, durable });
    agent = testAgent(f.key.keyId, f.clock.now);
  };
  const decisionOf = async (frame = agent.proposeFrame()) => {
    const answer = await f.grants.handlePropose(frame);
    if (answer.type !== 'grant.decision') throw new Error(`expected a decision, got ${JSON.stringify(answer)}`);
    GrantDecisionFrame.parse({ v: 1, ...answer });
    expect(verifyGrantDecision(f.identity.publicKey, answer.decision)).toBe(true);
    return answer.decision;
  };
  const refusalOf = async (work: Promise<unknown>) => {
    try {
      await work;
    } catch (e) {
      if (e instanceof ApprovalsRefusal) return e.code;
      throw e;
    }
    throw new Error('expected a refusal');
  };

  it('declines a grant that does not hash to the proposed grantHash, and keeps nothing of it', async () => {
    await setup('allow');
    const decision = await decisionOf(agent.proposeFrame({ grantHash: 'ab'.repeat(32) }));
    expect(decision).toMatchObject({ verdict: 'decline', by: 'policy', rule: null, grantHash: 'ab'.repeat(32) });
    expect(decision.reason).toContain(`hashes to ${agent.grantHash} on this node`);
    expect(f.grants.store.get(agent.grant.id)).toBeUndefined();
    expect(policy.grantEvaluations).toEqual([]);
  });

  it('approves by its grant rules, signed over its own hash; the same grant again gets the same decision', async () => {
    await setup('allow');
    const decision = await decisionOf();
    expect(decision).toMatchObject({ grantId: agent.grant.id, grantHash: agent.grantHash, verdict: 'approve', by: 'policy', rule: 'grant-allow-rule' });
    expect(await decisionOf()).toEqual(decision);
    expect(policy.grantEvaluations).toHaveLength(1);
    // Other content under the same id is never taken for the grant it approved.
    const tampered = testAgent(f.key.keyId, f.clock.now, { maxRequests: 1000 }, { id: agent.grant.id });
    expect(await decisionOf(tampered.proposeFrame())).toMatchObject({ verdict: 'decline', reason: expect.stringContaining('proposed earlier with other content') as string });
    expect(f.grants.store.get(agent.grant.id)?.grantHash).toBe(agent.grantHash);
  });

  it('declines by default (no grant rule applies)', async () => {
    await setup('deny');
    expect(await decisionOf()).toMatchObject({ verdict: 'decline', by: 'policy' });
    expect(f.grants.store.get(agent.grant.id)?.decision?.verdict).toBe('decline');
  });

  it('ask: waits for the operator, who approves (signed by the operator) once', async () => {
    await setup('ask');
    expect(await f.grants.handlePropose(agent.proposeFrame())).toMatchObject({ type: 'grant.awaiting', grantId: agent.grant.id, grantHash: agent.grantHash, rule: 'grant-ask-rule' });
    // Proposed again while undecided: still waiting, not evaluated again.
    expect((await f.grants.handlePropose(agent.proposeFrame())).type).toBe('grant.awaiting');
    expect(policy.grantEvaluations).toHaveLength(1);
    const outcome = await f.grants.operatorDecide(agent.grant.id, { verdict: 'approve' });
    expect(outcome.decision).toMatchObject({ verdict: 'approve', by: 'operator', grantHash: agent.grantHash });
    expect(verifyGrantDecision(f.identity.publicKey, outcome.decision)).toBe(true);
    expect(outcome.approval).toMatchObject({ kind: 'grant', state: 'approved' });
    expect(outcome.frame).toEqual({ type: 'grant.decision', grantId: agent.grant.id, decision: outcome.decision });
    expect(await refusalOf(f.grants.operatorDecide(agent.grant.id, { verdict: 'decline', reason: 'no' }))).toBe('APPROVAL_DECIDED');
    expect(await decisionOf()).toEqual(outcome.decision);
  });

  it('ask: the operator rejects with a reason; an expired grant can no longer be decided', async () => {
    await setup('ask');
    await f.grants.handlePropose(agent.proposeFrame());
    const rejected = await f.grants.operatorDecide(agent.grant.id, { verdict: 'decline', reason: 'too broad' });
    expect(rejected.decision).toMatchObject({ verdict: 'decline', by: 'operator', reason: 'too broad' });
    const late = testAgent(f.key.keyId, f.clock.now);
    await f.grants.handlePropose(late.proposeFrame());
    f.clock.now = late.grant.validUntil;
    expect(await refusalOf(f.grants.operatorDecide(late.grant.id, { verdict: 'approve' }))).toBe('APPROVAL_EXPIRED');
    expect(await refusalOf(f.grants.operatorDecide('00000000-0000-4000-8000-000000000000', { verdict: 'approve' }))).toBe('GRANT_NOT_FOUND');
  });

  it('revocation by the operator: signed, kept until the coordinator acks it, declines an undecided grant', async () => {
    await setup('ask');
    await f.grants.handlePropose(agent.proposeFrame());
    const { frame, revocation, grant } = await f.grants.revokeByOperator(agent.grant.id, 'the bot key leaked');
    GrantRevokeFrame.parse({ v: 1, ...frame });
    expect(grant.state).toBe('revoked');
    expect(frame).toMatchObject({ grantId: agent.grant.id, reason: 'the bot key leaked', revokedAt: f.clock.now });
    const fields = { grantId: agent.grant.id, grantHash: agent.grantHash, reason: frame.reason, revokedAt: frame.revokedAt };
    expect(verifyGrantRevocation(f.identity.publicKey, fields, frame.signature)).toBe(true);
    expect(revocation).toMatchObject({ by: 'operator', reported: false });
    expect(f.grants.store.get(agent.grant.id)?.decision).toMatchObject({ verdict: 'decline', by: 'operator' });
    expect(await refusalOf(f.grants.operatorDecide(agent.grant.id, { verdict: 'approve' }))).toBe('GRANT_REVOKED');
    expect(await refusalOf(f.grants.revokeByOperator(agent.grant.id, 'again'))).toBe('GRANT_REVOKED');
    expect(f.grants.unreportedRevocations()).toEqual([frame]);
    await f.grants.revocationAcked(agent.grant.id);
    expect(f.grants.unreportedRevocations()).toEqual([]);
  });

  it("the coordinator's grant.revoked revokes it on the node too", async () => {
    await setup('allow');
    await decisionOf();
    expect(await f.grants.revokedByCoordinator({ v: 1, type: 'grant.revoked', grantId: agent.grant.id, reason: 'admin kill switch' })).toBe(true);
    expect(f.grants.store.get(agent.grant.id)?.revocation).toMatchObject({ by: 'coordinator', reason: 'admin kill switch', reported: true });
    expect(f.grants.unreportedRevocations()).toEqual([]);
    expect(await f.grants.revokedByCoordinator({ v: 1, type: 'grant.revoked', grantId: agent.grant.id, reason: 'again' })).toBe(false);
  });

  it('keeps decisions and revocations across a restart (encrypted in the keystore)', async () => {
    await setup('ask', true);
    await f.grants.handlePropose(agent.proposeFrame());
    const other = testAgent(f.key.keyId, f.clock.now);
    await f.grants.handlePropose(other.proposeFrame());
    const approved = await f.grants.operatorDecide(agent.grant.id, { verdict: 'approve' });
    await f.grants.revokeByOperator(other.grant.id, 'not needed');
    await f.restart();
    expect(f.grants.store.get(agent.grant.id)?.decision).toEqual(approved.decision);
    expect(await decisionOf()).toEqual(approved.decision);
    expect(f.grants.unreportedRevocations()).toEqual([expect.objectContaining({ grantId: other.grant.id, reason: 'not needed' })]);
    expect(policy.grantEvaluations).toHaveLength(2);
  });
});
