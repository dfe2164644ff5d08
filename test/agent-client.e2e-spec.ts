import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { AgentClient, AgentError, createSessionKey, eip191SessionKey } from '#agent';
import { GrantListResponse, GrantResponse, type CreatePrincipalResponse } from '#api';
import { hexToBytes } from '#crypto';
import { SIGNER_MAIN, runToEnd, signerEnv, startProcess, stopProcess, waitFor, type Child } from '#harness';
import { verifyIndependently } from '#verify';
import { buildAdminProgram } from '../apps/admin/src/program.js';
import { USDC, payment, payrollScope, runAgentExample } from '../apps/demo/src/agent-example.js';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { createPrincipal } from './support/principals.js';

/**
 * The agent client (libs/agent) and the admin CLI's `grants` commands against a real coordinator and
 * three real `signer run` processes from the build. Each node approves grants by its policy's grant rule
 * and has no request rule at all (deny by default), so every signature below was approved under the grant
 * by the nodes' own scope checks, without any operator.
 */
const POLICY = [
  'version: 1',
  'rules: []',
  'grantRules:',
  '  - id: agents',
  '    outcome: allow',
  '    description: session keys for automated agents, two days at most',
  '    match: { granteeKinds: [ed25519], maxValidityMs: 172800000 }',
  '',
].join('\n');

/** Runs the admin program in-process as its main does; returns what it printed and its exit code. */
async function admin(coordinator: string, token: string, args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  const out: string[] = [];
  const err: string[] = [];
  let exitCode = 0;
  const program = buildAdminProgram({ out: (t) => out.push(t), progress: (t) => err.push(t), setExitCode: (c) => (exitCode = c) });
  try {
    await program.parseAsync(['--coordinator', coordinator, '--admin-token', token, ...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    exitCode = e.exitCode;
  }
  return { out: out.join('\n'), err: err.join('\n'), exitCode };
}

describe('agent client and grants CLI against real signer processes', () => {
  let dir: string;
  let coord: TestCoordinator;
  let proposer: CreatePrincipalResponse;
  const signers: Child[] = [];
  let keyId: string;
  let groupPublicKey: string;

  beforeAll(async () => {
    if (!existsSync(SIGNER_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    // Short: the approvals socket path must fit a UNIX socket address.
    dir = await mkdtemp(join(tmpdir(), 'rt-agent-'));
    coord = await startTestCoordinator({ requestTtlMs: 60_000 });
    const keystores: string[] = [];
    for (let i = 0; i < 3; i++) {
      const keystore = join(dir, `n${i + 1}`);
      const { publicKey } = JSON.parse(await runToEnd('init', SIGNER_MAIN, ['init', '--keystore', keystore], signerEnv(`passphrase ${i}`))) as { publicKey: string };
      expect((await coord.api('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).status).toBe(201);
      keystores.push(keystore);
    }
    const dealt = JSON.parse(
      await runToEnd('dealer', SIGNER_MAIN, [
        'dealer', '--coordinator', coord.httpUrl, '--admin-token', ADMIN_TOKEN, '--suite', 'ed25519', '--threshold', '2',
        ...keystores.flatMap((k) => ['--keystore', k]),
      ]),
    ) as { id: string; groupPublicKey: string };
    keyId = dealt.id;
    groupPublicKey = dealt.groupPublicKey;
    const policy = join(dir, 'policy.yaml');
    await writeFile(policy, POLICY);
    for (const [i, keystore] of keystores.entries()) {
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
    proposer = await createPrincipal(coord, 'payroll-team', 'proposer');
  });

  afterAll(async () => {
    for (const child of signers) await stopProcess(child);
    await coord?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the README's example runs: five payments signed by the nodes under the grant, the sixth refused OVER_BUDGET", async () => {
    const lines: string[] = [];
    const result = await runAgentExample({ coordinatorUrl: coord.httpUrl, apiKey: proposer.apiKey, keyId, log: (l) => lines.push(l) });
    expect(result.signatures).toHaveLength(5);
    expect(result.refused).toBe('OVER_BUDGET');
    expect(result.usage).toMatchObject({ requests: { made: 5 }, budgets: [{ amount: '5000000', spent: '5000000', remaining: '0' }] });
    expect(lines.join('\n')).toMatch(/payment 6: refused OVER_BUDGET/);
    for (const { requestId, signature } of result.signatures) {
      const r = (await coord.api<{ digest: string; proposer: string; decisions: { decision: { by: string; rule: string | null } | null }[] }>('GET', `/v1/signing-requests/${requestId}`)).body;
      expect(r.proposer).toBe(`grant:${result.grantId}`);
      expect(await verifyIndependently('ed25519', signature, hexToBytes(r.digest), groupPublicKey)).toBe(true);
      // Approved by the nodes' own grant checks (they have no request rule), never by an operator.
      const approvals = r.decisions.flatMap((x) => (x.decision ? [x.decision] : []));
      expect(approvals.length).toBeGreaterThanOrEqual(2);
      for (const d of approvals) expect(d).toMatchObject({ by: 'policy', rule: `grant:${result.grantId}` });
    }
  });

  it('the example runs as the README says, as a process from the build', async () => {
    const script = join(dirname(SIGNER_MAIN), '..', '..', 'demo', 'src', 'agent-example.js');
    const out = await runToEnd('agent example', script, [], { ROUNDTABLE_COORDINATOR: coord.httpUrl, ROUNDTABLE_API_KEY: proposer.apiKey, ROUNDTABLE_KEY_ID: keyId });
    expect(out.match(/^payment \d: signed /gm)).toHaveLength(5);
    expect(out).toMatch(/^payment 6: refused OVER_BUDGET/m);
  });

  it('grants create/show/list/revoke by the CLI; the agent signs five, the sixth is OVER_BUDGET, after revoke GRANT_REVOKED', async () => {
    const key = createSessionKey();
    const scopeFile = join(dir, 'scope.json');
    await writeFile(scopeFile, JSON.stringify(payrollScope(Date.now())));
    const validUntil = new Date(Date.now() + 3_600_000).toISOString();
    const created = await admin(coord.httpUrl, proposer.apiKey, [
      'grants', 'create', '--key', keyId, '--label', 'rebalancer', '--grantee-ed25519', key.publicKey.toUpperCase(),
      '--valid-until', validUntil, '--scope-file', scopeFile,
    ]);
    expect(created.exitCode).toBe(0);
    const proposed = GrantResponse.parse(JSON.parse(created.out));
    expect(proposed).toMatchObject({ status: 'proposed', keyId, label: 'rebalancer', grant: { grantee: { kind: 'ed25519', publicKey: key.publicKey } } });
    expect(created.err).toContain(`grant ${proposed.id} (rebalancer) proposed`);

    const agent = new AgentClient({ coordinatorUrl: coord.httpUrl, apiKey: proposer.apiKey, sessionKey: key });
    const active = await agent.waitUntilActive(proposed.id, { timeoutMs: 30_000 });
    expect(active.approvals.filter((a) => a.state === 'approved').length).toBeGreaterThanOrEqual(2);

    const pay = (n: number) => agent.request({ grant: active, payload: { kind: 'eip712', typedData: payment(100 + n) }, chainId: 8453 });
    for (let n = 1; n <= 5; n++) {
      const signed = await agent.waitForSignature((await pay(n)).id, { timeoutMs: 30_000 });
      expect(await verifyIndependently('ed25519', signed.signature, hexToBytes(signed.digest), groupPublicKey)).toBe(true);
    }
    await expect(pay(6)).rejects.toMatchObject({ code: 'OVER_BUDGET', refusal: 'OVER_BUDGET' });
    // Outside the scope in another way: a recipient the grant does not name.
    const elsewhere = payment(200);
    await expect(
      agent.request({ grant: active, payload: { kind: 'eip712', typedData: { ...elsewhere, message: { ...elsewhere.message, to: USDC } } }, chainId: 8453 }),
    ).rejects.toBeInstanceOf(AgentError);

    const shown = await admin(coord.httpUrl, proposer.apiKey, ['grants', 'show', proposed.id]);
    const view = GrantResponse.parse(JSON.parse(shown.out));
    expect(view.usage).toMatchObject({ requests: { made: 5 }, budgets: [{ asset: USDC, spent: '5000000', remaining: '0' }] });
    expect(view.requests).toHaveLength(5);
    expect(shown.err).toContain(proposed.id);

    const revoked = await admin(coord.httpUrl, ADMIN_TOKEN, ['grants', 'revoke', proposed.id, '--reason', 'bot compromised']);
    expect(GrantResponse.parse(JSON.parse(revoked.out))).toMatchObject({ status: 'revoked', revokeReason: 'bot compromised', revokedBy: 'admin' });
    // Refused at once, whatever the budget: a new day's allowance would not help either.
    await expect(pay(7)).rejects.toMatchObject({ code: 'GRANT_REVOKED', refusal: 'GRANT_REVOKED' });

    const listed = GrantListResponse.parse(JSON.parse((await admin(coord.httpUrl, ADMIN_TOKEN, ['grants', 'list', '--status', 'revoked'])).out));
    expect(listed.map((g) => g.id)).toContain(proposed.id);
  });

  it('a grant the nodes decline (their rule names ed25519 grantees only) is rejected: waitUntilActive says so, requests are refused', async () => {
    const account = privateKeyToAccount(`0x${'42'.repeat(32)}`);
    const agent = new AgentClient({ coordinatorUrl: coord.httpUrl, apiKey: ADMIN_TOKEN, sessionKey: eip191SessionKey(account) });
    const proposed = await agent.proposeGrant({ keyId, label: 'wallet bot', validUntil: Date.now() + 3_600_000, scope: payrollScope(Date.now()) });
    expect(proposed.grant.grantee).toEqual({ kind: 'eip191', address: account.address });
    const error = await agent.waitUntilActive(proposed.id, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'GRANT_NOT_ACTIVE', details: { grant: { status: 'rejected' } } });
    const { approvals } = (error as AgentError & { details: { grant: GrantResponse } }).details.grant;
    expect(approvals.filter((a) => a.state === 'declined').length).toBeGreaterThanOrEqual(2);
    await expect(agent.request({ grant: proposed, payload: { kind: 'eip712', typedData: payment(300) }, chainId: 8453 })).rejects.toMatchObject({
      refusal: expect.stringMatching(/^GRANT_/) as string,
    });
  });

  it('the CLI refuses a create without exactly one grantee, and an unknown grant is GRANT_NOT_FOUND', async () => {
    const scopeFile = join(dir, 'scope-2.json');
    await writeFile(scopeFile, JSON.stringify(payrollScope(Date.now())));
    const neither = await admin(coord.httpUrl, ADMIN_TOKEN, ['grants', 'create', '--key', keyId, '--label', 'x', '--valid-until', new Date(Date.now() + 60_000).toISOString(), '--scope-file', scopeFile]);
    expect(neither.exitCode).not.toBe(0);
    expect(neither.err).toMatch(/exactly one of --grantee-ed25519 or --grantee-address/);
    await expect(admin(coord.httpUrl, ADMIN_TOKEN, ['grants', 'show', '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41'])).rejects.toMatchObject({ status: 404, code: 'GRANT_NOT_FOUND' });
  });
});
