import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignerNode } from '#signer';
import { FakeCoordinator, type FakeNodeConnection } from '../../../../libs/signer/src/testing/fake-coordinator.js';
import { proposeFrame, testIntent, transferPayload } from '../../../../libs/signer/src/testing/intent-fixtures.js';
import { dealTestKey, tempDir, type DealtTestKey } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { testNodeOptions } from '../../../../libs/signer/src/testing/test-node.js';
import { testPolicy } from '../../../../libs/signer/src/testing/test-policy.js';
import { ExitCode } from '../cli-io.js';
import { captureIo } from './cli-test-support.js';
import { approvalsCommand, runApprovalsCommand } from './approvals.command.js';

describe('signer approvals', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let key: DealtTestKey;
  let fake: FakeCoordinator;
  let node: SignerNode;
  let conn: FakeNodeConnection;
  beforeEach(async () => {
    dir = await tempDir('rt-apc-');
    key = await dealTestKey(dir.path, { suite: 'secp256k1', threshold: 2, maxSigners: 3, withKeystores: 1 });
    fake = await FakeCoordinator.start();
    node = new SignerNode(testNodeOptions(key.keystores[0]!, fake.url, { policy: testPolicy({ outcome: 'ask', rule: 'big-transfer', reason: 'over 1000: the treasurer decides' }) }));
    const connecting = fake.nextConnection();
    await node.start();
    conn = await connecting;
    await conn.authenticated();
  });
  afterEach(async () => {
    await node.stop();
    await fake.close();
    await dir.cleanup();
  });

  const run = async (request: Parameters<typeof runApprovalsCommand>[1], json = false) => {
    const c = captureIo();
    const code = await runApprovalsCommand({ keystore: key.keystores[0]!, json }, request, c.io);
    return { code, out: c.out.join('\n'), err: c.err.join('\n') };
  };
  const queue = async () => {
    const { v: _v, ...p } = proposeFrame(testIntent(key.keyId, Date.now(), { payload: transferPayload('2500'), chainId: 1, description: 'vendor invoice 42' }), {
      suite: 'secp256k1',
      threshold: 2,
    });
    conn.send(p);
    await conn.next('request.awaiting');
    return p;
  };

  it('lists and shows a waiting EIP-712 transfer for a person: decoded fields and raw hashes', async () => {
    const p = await queue();
    const list = await run({ op: 'list' });
    expect(list.code).toBe(ExitCode.OK);
    expect(list.out).toContain(p.requestId);
    expect(list.out).toMatch(/awaiting .*EIP-712 Transfer for Test Token .* on chain 1: vendor invoice 42/);
    expect(list.out).toContain('rule big-transfer: over 1000: the treasurer decides');
    const show = await run({ op: 'show', id: p.requestId });
    expect(show.out).toMatch(/domain\.verifyingContract +0x00000000000000000000000000000000000000a1/);
    expect(show.out).toMatch(/message\.amount +2500/);
    expect(show.out).toMatch(/message\.to +0x00000000000000000000000000000000000000b0/);
    expect(show.out).toContain(`intent hash               ${p.intentHash}`);
    expect(show.out).toMatch(/digest signed {13}[0-9a-f]{64}/);
    expect(show.out).toMatch(/EIP-712 domain separator {2}[0-9a-f]{64}/);
    expect(show.out).toMatch(/EIP-712 struct hash {7}[0-9a-f]{64}/);
  });

  it('approve and reject print what was decided; a second decision is refused with exit 1', async () => {
    const a = await queue();
    const approved = await run({ op: 'approve', id: a.requestId });
    expect(approved.out).toMatch(new RegExp(`^approved request ${a.requestId} .*sent to the coordinator$`));
    expect((await conn.next('request.commit')).decision.by).toBe('operator');
    const again = await run({ op: 'reject', id: a.requestId, reason: 'changed my mind' });
    expect(again.code).toBe(ExitCode.ERROR);
    expect(again.err).toMatch(/APPROVAL_DECIDED: request .* was already approved/);
    const b = await queue();
    const rejected = await run({ op: 'reject', id: b.requestId, reason: 'unknown vendor' }, true);
    expect(JSON.parse(rejected.out)).toMatchObject({ sent: true, decision: { verdict: 'decline', reason: 'unknown vendor' } });
    expect(await conn.next('request.decline')).toMatchObject({ code: 'OPERATOR_REJECTED', reason: 'unknown vendor' });
  });

  it('exits 1 saying no node runs when the keystore has none', async () => {
    const other = await tempDir('rt-apc-');
    try {
      const r = await run({ op: 'list' });
      expect(r.code).toBe(ExitCode.OK);
      const c = captureIo();
      expect(await runApprovalsCommand({ keystore: other.path }, { op: 'list' }, c.io)).toBe(ExitCode.ERROR);
      expect(c.err.join('\n')).toMatch(/no signer node is running on this keystore/);
    } finally {
      await other.cleanup();
    }
  });

  it('has list, show, approve and reject, each with --keystore; reject requires --reason', () => {
    const command = approvalsCommand();
    expect(command.commands.map((c) => c.name())).toEqual(['list', 'show', 'approve', 'reject']);
    for (const c of command.commands) expect(c.options.map((o) => o.long)).toContain('--keystore');
    expect(command.commands[3]!.options.find((o) => o.long === '--reason')?.mandatory).toBe(true);
  });
});
