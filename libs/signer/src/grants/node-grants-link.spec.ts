import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sortCommitments, type CommitmentHex } from '#crypto';
import type { AttemptPackageFrame, Outgoing, RequestProposeFrame } from '#protocol';
import { callApprovals } from '../approvals/approvals-client.js';
import { SignerNode } from '../signer-node.js';
import { FakeCoordinator, type FakeNodeConnection } from '../testing/fake-coordinator.js';
import { testAgent, type TestAgent } from '../testing/grant-test-fixtures.js';
import { intentDigest, proposeFrame, testIntent, transferPayload } from '../testing/intent-fixtures.js';
import { commitAs, dealTestKey, tempDir, type DealtTestKey } from '../testing/key-fixtures.js';
import { testNodeOptions } from '../testing/test-node.js';
import { testPolicy } from '../testing/test-policy.js';

/**
 * A real node against a scripted coordinator: a grant its rules approve, requests under it, a coordinator
 * that lies about the grant, and the operator's revocation racing a package.
 */
describe('signer node: requests under a grant', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let key: DealtTestKey;
  let fake: FakeCoordinator;
  let node: SignerNode;
  let conn: FakeNodeConnection;
  let agent: TestAgent;
  beforeEach(async () => {
    dir = await tempDir('rt-gnl-');
    key = await dealTestKey(dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 1 });
    fake = await FakeCoordinator.start();
    const policy = testPolicy('deny');
    policy.answerGrants('allow');
    node = new SignerNode(testNodeOptions(key.keystores[0]!, fake.url, { policy }));
    const connecting = fake.nextConnection();
    await node.start();
    conn = await connecting;
    await conn.authenticated();
    agent = testAgent(key.keyId, Date.now());
    const { v: _v, ...frame } = agent.proposeFrame();
    conn.send(frame);
    expect((await conn.next('grant.decision')).decision).toMatchObject({ verdict: 'approve', by: 'policy' });
  });
  afterEach(async () => {
    await node.stop();
    await fake.close();
    await dir.cleanup();
  });

  const transfer = (amount: string): RequestProposeFrame =>
    proposeFrame(testIntent(key.keyId, Date.now(), { payload: transferPayload(amount), chainId: 1 }), { suite: 'secp256k1', threshold: 2 });
  const send = (p: RequestProposeFrame) => {
    const { v: _v, ...frame } = p;
    conn.send(frame);
  };
  const packageFor = (p: RequestProposeFrame, own: CommitmentHex): Outgoing<AttemptPackageFrame> => ({
    type: 'attempt.package',
    requestId: p.requestId,
    attemptId: randomUUID(),
    keyId: key.keyId,
    message: intentDigest(p.intent),
    commitments: sortCommitments(key.suite, [own, commitAs(key, 1)]),
    deadline: Date.now() + 30_000,
  });

  it('inside the scope: commits with rule grant:<id> and signs, with no operator action', async () => {
    const p = agent.under(transfer('500'), Date.now());
    send(p);
    const commit = await conn.next('request.commit');
    expect(commit.decision).toMatchObject({ by: 'policy', rule: `grant:${agent.grant.id}` });
    conn.send(packageFor(p, commit.commitment));
    expect((await conn.next('attempt.share')).requestId).toBe(p.requestId);
    expect((await callApprovals(key.keystores[0]!, { op: 'grants.list' })).grants).toEqual([expect.objectContaining({ grantId: agent.grant.id, requests: 1 })]);
  });

  it('a coordinator that lies: outside the scope, under a grant the node never approved, or with a doctored grant', async () => {
    send(agent.under(transfer('5000'), Date.now()));
    expect(await conn.next('request.decline')).toMatchObject({ code: 'POLICY_DENIED' });
    const unknown = testAgent(key.keyId, Date.now());
    send(unknown.under(transfer('5'), Date.now()));
    expect(await conn.next('request.decline')).toMatchObject({ code: 'POLICY_DENIED' });
    const wider = testAgent(key.keyId, Date.now(), { perRequest: { amountField: 'amount', max: '1000000' } }, { id: agent.grant.id });
    send(wider.under(transfer('5000'), Date.now()));
    expect(await conn.next('request.decline')).toMatchObject({ code: 'GRANT_MISMATCH' });
  });

  it("the operator's revocation while a package is in flight: the share never leaves", async () => {
    const p = agent.under(transfer('100'), Date.now());
    send(p);
    const commit = await conn.next('request.commit');
    const revoked = await callApprovals(key.keystores[0]!, { op: 'grants.revoke', id: agent.grant.id, reason: 'kill switch' });
    expect(revoked).toMatchObject({ sent: true, grant: { state: 'revoked' } });
    expect(await conn.next('grant.revoke')).toMatchObject({ grantId: agent.grant.id, reason: 'kill switch' });
    conn.send(packageFor(p, commit.commitment));
    expect(await conn.next('attempt.refuse')).toMatchObject({ requestId: p.requestId, code: 'GRANT_REVOKED' });
    send(agent.under(transfer('100'), Date.now()));
    expect(await conn.next('request.decline')).toMatchObject({ code: 'GRANT_REVOKED' });
  });

  it('a revocation the coordinator refuses for good is not sent again; a transient failure is', async () => {
    await callApprovals(key.keystores[0]!, { op: 'grants.revoke', id: agent.grant.id, reason: 'stop' });
    await conn.next('grant.revoke');
    const reconnect = async () => {
      const next = fake.nextConnection();
      conn.close(1012, 'restart');
      conn = await next;
      await conn.authenticated();
    };
    conn.send({ type: 'error', code: 'INTERNAL', message: 'try later', inReplyTo: 'grant.revoke', grantId: agent.grant.id });
    await reconnect();
    await conn.next('grant.revoke');
    conn.send({ type: 'error', code: 'GRANT_REVOKED', message: 'already revoked', inReplyTo: 'grant.revoke', grantId: agent.grant.id });
    await expect.poll(async () => (await callApprovals(key.keystores[0]!, { op: 'grants.show', id: agent.grant.id })).grant.revocation?.reported).toBe(true);
    await reconnect();
    expect(await conn.quietFor(300)).toBe(true);
  });
});
