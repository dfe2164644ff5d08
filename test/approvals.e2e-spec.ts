import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningRequestResponse } from '#api';
import { hexToBytes } from '#crypto';
import { verifyDecision } from '#intent';
import { SIGNER_MAIN, runToEnd, signerEnv, startProcess, stopProcess, waitFor, type Child } from '#harness';
import type { ApprovalDetail, ApprovalItem } from '#signer';
import { verifyIndependently } from '#verify';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';

/**
 * Operator approvals with real processes: a test coordinator, three `signer run` processes from the
 * build, each with its own policy file (node 1 allows, node 2 asks its operator, node 3 denies), and
 * the operator's `signer approvals list/show/approve/reject` run as processes against node 2.
 */
describe('operator approvals through the signer CLI', () => {
  let dir: string;
  let coord: TestCoordinator;
  const keystores: string[] = [];
  const publicKeys: string[] = [];
  const signers: Child[] = [];
  let keyId: string;
  let groupPublicKey: string;

  const POLICIES = [
    'version: 1\nrules:\n  - id: small-payments\n    outcome: allow\n    match: {}\n',
    'version: 1\nrules:\n  - id: treasurer-decides\n    outcome: ask\n    match: {}\n',
    'version: 1\nrules:\n  - id: frozen\n    outcome: deny\n    match: {}\n',
  ];

  const cli = async <T>(...args: string[]): Promise<T> => JSON.parse(await runToEnd(`signer ${args[1] ?? ''}`, SIGNER_MAIN, args)) as T;
  const approvals = (...args: string[]) => cli<unknown>('approvals', ...args, '--keystore', keystores[1]!, '--json');
  const request = async (id: string) => SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${id}`)).body);
  const settle = async (id: string) =>
    waitFor('the request to finish', async () => {
      const r = await request(id);
      return ['completed', 'failed', 'expired', 'cancelled'].includes(r.status) ? r : undefined;
    }, 30_000);
  const propose = async (text: string) => {
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text }, description: `pay: ${text}` });
    expect(created.status).toBe(201);
    return created.body.id;
  };
  const awaitingOnNode2 = (id: string) =>
    waitFor('node 2 to queue the proposal for its operator', async () => {
      const list = (await approvals('list')) as ApprovalItem[];
      return list.find((a) => a.requestId === id && a.state === 'awaiting');
    }, 20_000);

  beforeAll(async () => {
    if (!existsSync(SIGNER_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    // Short: the approvals socket path must fit a UNIX socket address.
    dir = await mkdtemp(join(tmpdir(), 'rt-appr-'));
    coord = await startTestCoordinator({ requestTtlMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      const keystore = join(dir, `n${i + 1}`);
      const env = signerEnv(`passphrase ${i}`);
      const { publicKey } = JSON.parse(await runToEnd('init', SIGNER_MAIN, ['init', '--keystore', keystore], env)) as { publicKey: string };
      expect((await coord.api('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).status).toBe(201);
      keystores.push(keystore);
      publicKeys.push(publicKey);
    }
    const dealt = JSON.parse(
      await runToEnd('dealer', SIGNER_MAIN, [
        'dealer', '--coordinator', coord.httpUrl, '--admin-token', coord.config.adminToken, '--suite', 'ed25519', '--threshold', '2',
        ...keystores.flatMap((k) => ['--keystore', k]),
      ]),
    ) as { id: string; groupPublicKey: string };
    keyId = dealt.id;
    groupPublicKey = dealt.groupPublicKey;
    for (const [i, keystore] of keystores.entries()) {
      const policy = join(dir, `policy-${i + 1}.yaml`);
      await writeFile(policy, POLICIES[i]!);
      signers.push(
        startProcess(`node-${i + 1}`, SIGNER_MAIN, [
          'run', '--keystore', keystore, '--coordinator', coord.wsUrl, '--coordinator-id', coord.config.coordinatorId, '--policy', policy, '--log-level', 'warn',
        ], signerEnv(`passphrase ${i}`)),
      );
    }
    await waitFor('three connected nodes', async () => {
      const nodes = (await coord.api<{ connected: boolean }[]>('GET', '/v1/nodes')).body;
      return nodes.filter((n) => n.connected).length === 3 ? true : undefined;
    }, 30_000);
  });

  afterAll(async () => {
    for (const child of signers) await stopProcess(child);
    await coord?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('list and show the waiting proposal with its summary and raw hashes; approve signs with nodes 1 and 2', async () => {
    const id = await propose('pay 5 to bob');
    const item = await awaitingOnNode2(id);
    const created = await request(id);
    expect(item).toMatchObject({ keyId, intentHash: created.intentHash, rule: 'treasurer-decides' });
    const shown = (await approvals('show', id)) as ApprovalDetail;
    expect(shown.hashes).toMatchObject({ intentHash: created.intentHash, digest: created.digest });
    expect(shown.fields).toEqual(expect.arrayContaining([{ label: 'text', value: 'pay 5 to bob' }, { label: 'description', value: 'pay: pay 5 to bob' }]));
    // The human form too: the summary and the hashes an operator compares on another device.
    const text = await runToEnd('show', SIGNER_MAIN, ['approvals', 'show', id, '--keystore', keystores[1]!]);
    expect(text).toContain('text message');
    expect(text).toContain(`intent hash               ${created.intentHash!}`);

    const approved = (await approvals('approve', id)) as { sent: boolean; decision: Parameters<typeof verifyDecision>[1] };
    expect(approved).toMatchObject({ sent: true, decision: { verdict: 'approve', by: 'operator', intentHash: created.intentHash } });
    expect(verifyDecision(publicKeys[1]!, approved.decision)).toBe(true);

    const done = await settle(id);
    expect(done.status).toBe('completed');
    expect(await verifyIndependently('ed25519', done.signature!, hexToBytes(done.digest), groupPublicKey)).toBe(true);
    expect((await approvals('list')) as ApprovalItem[]).not.toContainEqual(expect.objectContaining({ requestId: id, state: 'awaiting' }));
    // Approving again is refused, saying why.
    const again = startProcess('approve again', SIGNER_MAIN, ['approvals', 'approve', id, '--keystore', keystores[1]!]);
    expect(await again.exited).toBe(1);
  });

  it('reject with a reason: node 3 denies and node 2 rejects, so the request fails with both signed declines', async () => {
    const id = await propose('pay 9000 to mallory');
    await awaitingOnNode2(id);
    const rejected = (await approvals('reject', id, '--reason', 'not on the payment schedule')) as { decision: Parameters<typeof verifyDecision>[1] };
    expect(rejected.decision).toMatchObject({ verdict: 'decline', by: 'operator', reason: 'not on the payment schedule' });
    expect(verifyDecision(publicKeys[1]!, rejected.decision)).toBe(true);
    const done = await settle(id);
    expect(done.status).toBe('failed');
    const byNode = done.decisions.map((d) => [d.label, d.decision?.verdict, d.decision?.by]);
    expect(byNode).toEqual(expect.arrayContaining([
      ['node-2', 'decline', 'operator'],
      ['node-3', 'decline', 'policy'],
    ]));
  });

  it('a cancelled request disappears from the queue, and approving it says it was cancelled', async () => {
    const id = await propose('pay 7 to carol');
    await awaitingOnNode2(id);
    expect((await coord.api('POST', `/v1/signing-requests/${id}/cancel`, { reason: 'wrong amount' })).status).toBe(200);
    await waitFor('the awaiting approval to go', async () => {
      const list = (await approvals('list')) as ApprovalItem[];
      return list.some((a) => a.requestId === id) ? undefined : true;
    }, 20_000);
    const late = startProcess('approve cancelled', SIGNER_MAIN, ['approvals', 'approve', id, '--keystore', keystores[1]!]);
    expect(await late.exited).toBe(1);
    expect(late.output.join('\n')).toMatch(/APPROVAL_CLOSED: request .* was cancelled by its proposer/);
  });
});
