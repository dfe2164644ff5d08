import { AgentClient, AgentError, createSessionKey } from '#agent';
import type { LocalCluster } from '#harness';
import { verifyIndependently } from '#verify';
import { CHAIN_ID, PAYROLL, USDC, transferIntent } from './demo-policies.js';

interface Out {
  step: (text: string) => void;
  info: (text: string) => void;
}

const USDC_UNIT = 1_000_000n;
const usdc = (units: bigint | string) => `${BigInt(units) / USDC_UNIT} USDC`;

const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

/**
 * Session keys (issue 10): a payroll agent gets a scoped grant approved by the operators (node 1 by a
 * standing rule, node 2's operator by hand), signs five 100 USDC payroll transfers with no operator
 * action, is refused the sixth (its 500 USDC daily budget is spent), and is stopped by one operator's
 * revocation on their own node. The agent never holds a key share. True when all of it held.
 */
export async function agentFlow(cluster: LocalCluster, key: { id: string; groupPublicKey: string }, { step, info }: Out): Promise<boolean> {
  let ok = true;
  const sessionKey = createSessionKey();
  const agent = new AgentClient({ coordinatorUrl: cluster.httpUrl, sessionKey, apiKey: cluster.adminToken });

  step('An automated payroll agent asks for a grant: its own Ed25519 session key, scoped and time-bound');
  const now = Date.now();
  const proposed = await agent.proposeGrant({
    keyId: key.id,
    label: 'payroll bot',
    validUntil: new Date(now + 3_600_000).toISOString(),
    scope: {
      kinds: ['eip712'],
      chainIds: [CHAIN_ID],
      domains: [{ name: 'USD Coin', verifyingContract: USDC }],
      primaryTypes: ['Transfer'],
      fields: [{ path: 'to', in: [PAYROLL] }],
      perRequest: { amountField: 'value', max: String(100n * USDC_UNIT) },
      budgets: [{ asset: USDC, amountField: 'value', amount: String(500n * USDC_UNIT), periodMs: 86_400_000, start: now }],
      maxRequests: 20,
      rateLimit: { count: 10, intervalMs: 60_000 },
    },
  });
  info(`grant ${proposed.id} (hash ${proposed.grantHash}), session key ${sessionKey.grantee.kind === 'ed25519' ? sessionKey.grantee.publicKey : ''}`);
  for (const line of proposed.scopeText) info(`  ${line}`);

  step("Node 1 approves it by a standing rule; node 2's operator reviews and approves it by hand (`signer approvals`)");
  const asked = await waitForApproval(cluster, 1, proposed.id);
  info(`$ signer approvals show ${proposed.id}`);
  console.log(indent(asked));
  console.log(indent(await cluster.signerCommand(1, ['approvals', 'approve', proposed.id, '--keystore', cluster.keystores[1]!])));
  const active = await agent.waitUntilActive(proposed.id);
  info(`grant ${active.status}: ${active.approvals.map((a) => `${a.label} ${a.state}`).join(', ')}`);

  step('The agent signs five 100 USDC payroll transfers under the grant: no operator is asked');
  for (let i = 1; i <= 5; i++) {
    const created = await agent.request({ grant: active, payload: transferIntent(PAYROLL, String(100n * USDC_UNIT), 100 + i), chainId: CHAIN_ID, description: `payroll run ${i}` });
    const done = await agent.waitForSignature(created.id);
    const valid = await verifyIndependently('secp256k1', done.signature, Buffer.from(done.digest, 'hex'), key.groupPublicKey);
    ok &&= valid;
    info(`request ${i}: ${done.status}, signed by ${done.attempts.at(-1)?.participants.map((p) => `node-${cluster.nodeIds.indexOf(p) + 1}`).join(' + ')}; signature ${valid ? 'VALID' : 'INVALID'}`);
  }
  const usage = (await agent.grant(active.id)).usage;
  for (const b of usage.budgets) info(`budget: ${usdc(b.spent)} of ${usdc(b.amount)} spent today, ${usdc(b.remaining)} left`);

  step('A sixth transfer would go over the daily budget: refused at once');
  ok &&= await refused(agent, active, 106, 'OVER_BUDGET', info);

  step("Node 1's operator pulls the kill switch on their own node (`signer grants revoke`)");
  console.log(indent(await cluster.signerCommand(0, ['grants', 'revoke', active.id, '--reason', 'payroll run finished', '--keystore', cluster.keystores[0]!])));
  const revoked = await waitForStatus(agent, active.id, 'revoked');
  info(`grant ${revoked.status}${revoked.revokeReason ? `: ${revoked.revokeReason}` : ''}`);
  ok &&= await refused(agent, active, 107, 'GRANT_REVOKED', info, 1n);
  return ok;
}

/** Submits one more transfer and expects the coordinator to refuse it with `code`. */
async function refused(agent: AgentClient, grant: { id: string; keyId: string }, nonce: number, code: string, info: (t: string) => void, amount = 100n): Promise<boolean> {
  try {
    await agent.request({ grant, payload: transferIntent(PAYROLL, String(amount * USDC_UNIT), nonce), chainId: CHAIN_ID, description: 'one more' });
  } catch (e) {
    if (e instanceof AgentError) {
      info(`refused ${e.code}: ${e.message}`);
      return e.code === code;
    }
    throw e;
  }
  info(`ACCEPTED, though it should have been refused ${code}`);
  return false;
}

/** Polls node `index`'s approvals until the grant is there; returns `signer approvals show` for it. */
async function waitForApproval(cluster: LocalCluster, index: number, grantId: string): Promise<string> {
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      return await cluster.signerCommand(index, ['approvals', 'show', grantId, '--keystore', cluster.keystores[index]!]);
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function waitForStatus(agent: AgentClient, grantId: string, status: string) {
  const until = Date.now() + 30_000;
  for (;;) {
    const g = await agent.grant(grantId);
    if (g.status === status || Date.now() > until) return g;
    await new Promise((r) => setTimeout(r, 100));
  }
}
