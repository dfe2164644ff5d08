import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyGrantRevocation } from '#intent';
import { SignerNode } from '#signer';
import { FakeCoordinator, type FakeNodeConnection } from '../../../../libs/signer/src/testing/fake-coordinator.js';
import { testAgent, type TestAgent } from '../../../../libs/signer/src/testing/grant-test-fixtures.js';
import { dealTestKey, tempDir, type DealtTestKey } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { testNodeOptions } from '../../../../libs/signer/src/testing/test-node.js';
import { testPolicy } from '../../../../libs/signer/src/testing/test-policy.js';
import { ExitCode } from '../cli-io.js';
import { captureIo } from './cli-test-support.js';
import { runApprovalsCommand } from './approvals.command.js';
import { grantsCommand, runGrantsCommand } from './grants.command.js';

/** `signer approvals` on grants, and `signer grants list|show|revoke`, against a running node. */
describe('signer grants', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let key: DealtTestKey;
  let fake: FakeCoordinator;
  let node: SignerNode;
  let conn: FakeNodeConnection;
  let agent: TestAgent;
  beforeEach(async () => {
    dir = await tempDir('rt-grc-');
    key = await dealTestKey(dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 1 });
    fake = await FakeCoordinator.start();
    const policy = testPolicy('deny');
    policy.answerGrants('ask');
    node = new SignerNode(testNodeOptions(key.keystores[0]!, fake.url, { policy }));
    const connecting = fake.nextConnection();
    await node.start();
    conn = await connecting;
    await conn.authenticated();
    agent = testAgent(key.keyId, Date.now());
    const { v: _v, ...frame } = agent.proposeFrame();
    conn.send(frame);
    await conn.next('grant.awaiting');
  });
  afterEach(async () => {
    await node.stop();
    await fake.close();
    await dir.cleanup();
  });

  const io = async (run: (c: ReturnType<typeof captureIo>) => Promise<number>) => {
    const c = captureIo();
    const code = await run(c);
    return { code, out: c.out.join('\n'), err: c.err.join('\n') };
  };
  const approvals = (request: Parameters<typeof runApprovalsCommand>[1]) => io((c) => runApprovalsCommand({ keystore: key.keystores[0]! }, request, c.io));
  const grants = (request: Parameters<typeof runGrantsCommand>[1], json = false) => io((c) => runGrantsCommand({ keystore: key.keystores[0]!, json }, request, c.io));

  it('signer approvals lists the grant (kind grant), shows its scope in plain words, and approves it', async () => {
    const list = await approvals({ op: 'list' });
    expect(list.out).toMatch(new RegExp(`^${agent.grant.id}  grant    awaiting .* rebalancer \\(for ed25519 ${agent.sessionKey.publicKey}\\)`, 'm'));
    expect(list.out).toContain('grant rule grant-ask-rule');
    const show = await approvals({ op: 'show', id: agent.grant.id });
    expect(show.out).toContain(`grant ${agent.grant.id}: awaiting`);
    expect(show.out).toMatch(/scope \(everything else is denied\)\n {2}valid from /);
    expect(show.out).toContain('may sign eip712 on chain 1');
    expect(show.out).toContain(`grantee     ed25519 ${agent.sessionKey.publicKey}`);
    expect(show.out).toContain(`  ${agent.grantHash}`);
    expect(show.out).toContain(`signer approvals approve ${agent.grant.id}`);
    const approved = await approvals({ op: 'approve', id: agent.grant.id });
    expect(approved.code).toBe(ExitCode.OK);
    expect(approved.out).toMatch(new RegExp(`^approved grant ${agent.grant.id} \\(grant hash ${agent.grantHash}\\).*sent to the coordinator$`));
    expect((await conn.next('grant.decision')).decision).toMatchObject({ verdict: 'approve', by: 'operator', grantHash: agent.grantHash });
    const again = await approvals({ op: 'reject', id: agent.grant.id, reason: 'no' });
    expect(again.code).toBe(ExitCode.ERROR);
    expect(again.err).toMatch(/APPROVAL_DECIDED: grant .* was already approved/);
  });

  it('signer grants list and show; revoke signs a grant.revoke, sends it again after a reconnect until acked', async () => {
    expect((await grants({ op: 'grants.list' })).out).toMatch(new RegExp(`^${agent.grant.id}  awaiting .* rebalancer .* 0 request\\(s\\) signed here$`));
    const shown = JSON.parse((await grants({ op: 'grants.show', id: agent.grant.id }, true)).out) as { scope: string[]; grantHash: string };
    expect(shown.grantHash).toBe(agent.grantHash);
    expect(shown.scope).toContain('may sign eip712 on chain 1');
    const revoked = await grants({ op: 'grants.revoke', id: agent.grant.id, reason: 'the bot is compromised' });
    expect(revoked.code).toBe(ExitCode.OK);
    expect(revoked.out).toMatch(/^revoked grant .* no share under it leaves this node from now on; the signed revocation was sent to the coordinator$/);
    const frame = await conn.next('grant.revoke');
    const fields = { grantId: agent.grant.id, grantHash: agent.grantHash, reason: 'the bot is compromised', revokedAt: frame.revokedAt };
    expect(verifyGrantRevocation(node.publicKey!, fields, frame.signature)).toBe(true);
    expect((await grants({ op: 'grants.show', id: agent.grant.id })).out).toMatch(/revoked by the operator at .*: the bot is compromised \(not yet acknowledged/);
    const twice = await grants({ op: 'grants.revoke', id: agent.grant.id, reason: 'again' });
    expect(twice.code).toBe(ExitCode.ERROR);
    expect(twice.err).toMatch(/GRANT_REVOKED: grant .* was already revoked/);

    // Not acknowledged: sent again on the next connection; acknowledged there, not after.
    let reconnecting = fake.nextConnection();
    conn.close(1012, 'restart');
    conn = await reconnecting;
    await conn.authenticated();
    expect(await conn.next('grant.revoke')).toEqual(frame);
    conn.send({ type: 'ack', of: 'grant.revoke', grantId: agent.grant.id });
    await expect.poll(async () => (await grants({ op: 'grants.show', id: agent.grant.id })).out).toContain('the coordinator acknowledged it');
    reconnecting = fake.nextConnection();
    conn.close(1012, 'restart');
    conn = await reconnecting;
    await conn.authenticated();
    expect(await conn.quietFor(300)).toBe(true);
  });

  it('an unknown grant is refused with exit 1; the commands are list, show and revoke (--reason required)', async () => {
    const r = await grants({ op: 'grants.show', id: '00000000-0000-4000-8000-000000000000' });
    expect(r.code).toBe(ExitCode.ERROR);
    expect(r.err).toMatch(/GRANT_NOT_FOUND/);
    const command = grantsCommand();
    expect(command.commands.map((c) => c.name())).toEqual(['list', 'show', 'revoke']);
    for (const c of command.commands) expect(c.options.map((o) => o.long)).toContain('--keystore');
    expect(command.commands[2]!.options.find((o) => o.long === '--reason')?.mandatory).toBe(true);
  });
});
