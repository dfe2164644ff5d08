import { pathToFileURL } from 'node:url';
import { AgentClient, AgentError, createSessionKey } from '#agent';
import type { GrantUsageResponse } from '#api';
import type { GrantScope, TypedData } from '#protocol';

/**
 * The README's agent example ("Session keys (grants) for automated agents"), compiled by the build and
 * run by test/agent-client.e2e-spec.ts so that it cannot rot. A payroll bot gets a session key, has a
 * grant for it proposed (a proposer's API key), waits for the key's nodes to approve it, then pays
 * 1 USDC five times without any operator's click; the sixth payment is over the grant's daily budget
 * of 5 USDC and is refused OVER_BUDGET.
 *
 *   ROUNDTABLE_COORDINATOR=http://127.0.0.1:8080 ROUNDTABLE_API_KEY=rt_... ROUNDTABLE_KEY_ID=<key id> \
 *     node dist/apps/demo/src/agent-example.js
 *
 * The parts between `README:begin` and `README:end` are shown in README.md, verbatim but for their
 * indentation; agent-example.spec.ts checks that they still are.
 */

export const USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
export const PAYROLL = '0x5555555555555555555555555555555555555555';
const ONE_USDC = '1000000';
const DAY_MS = 86_400_000;

/** One USDC to payroll, as the EIP-712 transfer the token's treasury module verifies. */
export const payment = (n: number): TypedData => ({
  domain: { name: 'USD Coin', version: '2', chainId: 8453, verifyingContract: USDC },
  types: {
    Transfer: [
      { name: 'to', type: 'address' },
      { name: 'amount', type: 'uint256' },
      { name: 'nonce', type: 'uint256' },
    ],
  },
  primaryType: 'Transfer',
  message: { to: PAYROLL, amount: ONE_USDC, nonce: n },
});

// README:begin
/** What the bot may do: USDC transfers to payroll on Base, 1 USDC each, 5 USDC a day, 10 a minute. */
export const payrollScope = (start: number): GrantScope => ({
  kinds: ['eip712'],
  chainIds: [8453],
  domains: [{ name: 'USD Coin', verifyingContract: USDC }],
  primaryTypes: ['Transfer'],
  fields: [{ path: 'to', in: [PAYROLL] }],
  perRequest: { amountField: 'amount', max: ONE_USDC },
  budgets: [{ asset: USDC, amountField: 'amount', amount: '5000000', periodMs: DAY_MS, start }],
  rateLimit: { count: 10, intervalMs: 60_000 },
});
// README:end

export interface AgentExampleOptions {
  coordinatorUrl: string;
  /** A proposer's (or the admin's) API key: proposes the grant and reads the requests. */
  apiKey: string;
  keyId: string;
  log?: (line: string) => void;
}

export interface AgentExampleResult {
  grantId: string;
  signatures: { requestId: string; signature: string }[];
  /** The code the sixth payment was refused with. */
  refused: string | null;
  usage: GrantUsageResponse;
}

export async function runAgentExample({ coordinatorUrl, apiKey, keyId, log = console.log }: AgentExampleOptions): Promise<AgentExampleResult> {
  // README:begin
  // 1. The agent's own key: it only ever requests signatures; the threshold key stays with the nodes.
  const sessionKey = createSessionKey();
  const agent = new AgentClient({ coordinatorUrl, apiKey, sessionKey });

  // 2. Propose the grant (for this session key) and wait for the key's threshold of nodes to approve it.
  const proposed = await agent.proposeGrant({
    keyId,
    label: 'payroll bot',
    validUntil: new Date(Date.now() + DAY_MS).toISOString(),
    scope: payrollScope(Date.now()),
  });
  log(`grant ${proposed.id} proposed: ${proposed.scopeText.join('; ')}`);
  const grant = await agent.waitUntilActive(proposed.id);
  log(`grant active: ${grant.approvals.filter((a) => a.state === 'approved').length} of ${grant.members} nodes approved`);

  // 3. Sign and submit requests under it; each is approved by the nodes' grant checks, not by an operator.
  const signatures: AgentExampleResult['signatures'] = [];
  let refused: string | null = null;
  for (let n = 1; n <= 6; n++) {
    try {
      const request = await agent.request({ grant, payload: { kind: 'eip712', typedData: payment(n) }, chainId: 8453, description: `payroll #${n}` });
      const signed = await agent.waitForSignature(request.id);
      signatures.push({ requestId: signed.id, signature: signed.signature });
      log(`payment ${n}: signed ${signed.signature.slice(0, 16)}...`);
    } catch (e) {
      // A refusal under the grant carries its code: OVER_BUDGET, RATE_LIMITED, GRANT_REVOKED, GRANT_EXPIRED, ...
      if (!(e instanceof AgentError) || e.refusal === null) throw e;
      refused = e.refusal;
      log(`payment ${n}: refused ${e.code}: ${e.message}`);
      break;
    }
  }
  // README:end

  // 4. Usage against every limit, as the coordinator counts it.
  const { usage } = await agent.grant(grant.id);
  for (const b of usage.budgets) log(`budget ${b.asset}: spent ${b.spent} of ${b.amount}, ${b.remaining} left until ${b.periodEnd}`);
  return { grantId: grant.id, signatures, refused, usage };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string) => process.env[name] ?? (console.error(`${name} is required`), process.exit(2));
  runAgentExample({ coordinatorUrl: env('ROUNDTABLE_COORDINATOR'), apiKey: env('ROUNDTABLE_API_KEY'), keyId: env('ROUNDTABLE_KEY_ID') }).catch(
    (e: unknown) => {
      console.error(e instanceof AgentError ? `${e.code}: ${e.message}` : e);
      process.exit(1);
    },
  );
}
