import { randomUUID } from 'node:crypto';
import { generateIdentity } from '#crypto';
import { agentNonce, grantHash, signAgentRequest } from '#intent';
import { Grant, type GrantProposeFrame, type GrantScope, type RequestGrant, type RequestProposeFrame } from '#protocol';

/** Session-key grants for the node's specs, on the test key and the test transfer (intent-fixtures.ts `transferPayload`). */

export const TEST_TOKEN = '0x00000000000000000000000000000000000000a1';
export const DAY_MS = 86_400_000;

/** Transfers of the test token on chain 1, at most 1000 each, 2500 a day, 3 requests in all. */
export const TEST_SCOPE: GrantScope = {
  kinds: ['eip712'],
  chainIds: [1],
  domains: [{ verifyingContract: TEST_TOKEN }],
  primaryTypes: ['Transfer'],
  perRequest: { amountField: 'amount', max: '1000' },
  budgets: [{ asset: TEST_TOKEN, amountField: 'amount', amount: '2500', periodMs: DAY_MS, start: 0 }],
  maxRequests: 3,
};

export interface TestAgent {
  grant: Grant;
  grantHash: string;
  /** The agent's Ed25519 session key. */
  sessionKey: { publicKey: string; secretKey: string };
  /** `grant.propose` of the grant, as an honest coordinator sends it. */
  proposeFrame(over?: Partial<GrantProposeFrame>): GrantProposeFrame;
  /** The agent's authorization of `p` (over its intent hash), fresh at `now`. */
  authorize(p: RequestProposeFrame, now: number, over?: { nonce?: string; timestamp?: number; intentHash?: string }): RequestGrant;
  /** `p` under the grant, authorized by the agent at `now`. */
  under(p: RequestProposeFrame, now: number, over?: { nonce?: string; timestamp?: number; intentHash?: string }): RequestProposeFrame;
}

/** A grant for `keyId`, valid a day around `now`, held by a fresh Ed25519 session key. */
export function testAgent(keyId: string, now: number, scope: Partial<GrantScope> = {}, over: Partial<Omit<Grant, 'scope'>> = {}): TestAgent {
  const sessionKey = generateIdentity();
  const grant = Grant.parse({
    version: 1,
    id: randomUUID(),
    keyId,
    grantee: { kind: 'ed25519', publicKey: sessionKey.publicKey },
    label: 'rebalancer',
    validAfter: now - 1000,
    validUntil: now + DAY_MS,
    scope: { ...TEST_SCOPE, ...scope },
    proposer: 'admin',
    ...over,
  });
  const hash = grantHash(grant);
  const authorize: TestAgent['authorize'] = (p, at, o = {}) => ({
    grant,
    grantHash: hash,
    authorization: signAgentRequest(sessionKey.secretKey, {
      grantId: grant.id,
      intentHash: o.intentHash ?? p.intentHash,
      nonce: o.nonce ?? agentNonce(),
      timestamp: o.timestamp ?? at,
    }),
  });
  return {
    grant,
    grantHash: hash,
    sessionKey,
    proposeFrame: (o = {}) => ({ v: 1, type: 'grant.propose', grant, grantHash: hash, ...o }),
    authorize,
    under: (p, at, o) => ({ ...p, grant: authorize(p, at, o) }),
  };
}
