import { Grant, type GrantScope, type Intent, type Payload, type TypedData } from '#protocol';
import type { CountedRequest } from '../grant-scope.js';

/** Grants, typed transfers and counted requests for tests of the grant scope engine and its users. */

export const GRANT_ID = '6a1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
export const GRANT_KEY = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
export const OTHER_KEY = '0d9e7c1a-5b3f-4a2e-8c6d-2f1b4e7a9c30';
export const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
export const DAI = '0x6B175474E89094C44Da98b954EedeAC495271d0F';
export const ALICE = '0x1111111111111111111111111111111111111111';
export const BOB = '0x2222222222222222222222222222222222222222';
export const MALLORY = '0x9999999999999999999999999999999999999999';

export const MINUTE = 60_000;
export const DAY = 86_400_000;
/** 2025-01-01T00:00:00Z: the grant's validAfter and its budget's start. */
export const T0 = Date.UTC(2025, 0, 1);

/** USDC payroll: Transfers to Alice or Bob, at most 1000 each, 5000 a day, 20 requests, 5 a minute. */
export const SCOPE: GrantScope = {
  kinds: ['eip712'],
  chainIds: [1],
  domains: [{ name: 'USD Coin', verifyingContract: USDC }],
  primaryTypes: ['Transfer'],
  fields: [{ path: 'to', in: [ALICE, BOB] }],
  perRequest: { amountField: 'value', max: '1000' },
  budgets: [{ asset: USDC, amountField: 'value', amount: '5000', periodMs: DAY, start: T0 }],
  maxRequests: 20,
  rateLimit: { count: 5, intervalMs: MINUTE },
};

/** A grant parsed through the protocol schema (so every fixture is a valid grant), with `scope` replacing the default. */
export function grant(scope: Partial<GrantScope> = {}, over: Partial<Omit<Grant, 'scope'>> = {}): Grant {
  const merged = { ...SCOPE, ...scope };
  for (const k of Object.keys(merged) as (keyof GrantScope)[]) if (merged[k] === undefined) delete merged[k];
  return Grant.parse({
    version: 1,
    id: GRANT_ID,
    keyId: GRANT_KEY,
    grantee: { kind: 'ed25519', publicKey: '11'.repeat(32) },
    label: 'payroll bot',
    validAfter: T0,
    validUntil: T0 + 30 * DAY,
    scope: merged,
    proposer: 'admin',
    ...over,
  });
}

export interface TransferOptions {
  to?: string;
  value?: string | number;
  token?: string;
  name?: string;
  version?: string;
  domainChainId?: number;
  primaryType?: string;
  /** Leave the `value` field out of the message (the types still declare it). */
  noValue?: boolean;
}

export function transfer(o: TransferOptions = {}): TypedData {
  const primaryType = o.primaryType ?? 'Transfer';
  const message: TypedData['message'] = { to: o.to ?? ALICE, value: o.value ?? '100' };
  if (o.noValue) delete message['value'];
  return {
    domain: { name: o.name ?? 'USD Coin', version: o.version ?? '2', chainId: o.domainChainId ?? 1, verifyingContract: o.token ?? USDC },
    types: {
      [primaryType]: [
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
      ],
    },
    primaryType,
    message,
  };
}

export function intent(payload: Payload | TypedData, over: Partial<Intent> = {}): Intent {
  const p: Payload = 'kind' in payload ? payload : { kind: 'eip712', typedData: payload };
  return {
    version: 1,
    keyId: GRANT_KEY,
    payload: p,
    chainId: p.kind === 'eip712' ? (p.typedData.domain.chainId ?? null) : 1,
    sequence: null,
    deadline: T0 + 40 * DAY,
    proposer: 'agent',
    description: '',
    note: '',
    ...over,
  };
}

let n = 0;
/** A request counted at `at` under the grant: a transfer of `value` (of USDC unless `token` says otherwise). */
export const counted = (at: number, value: string | number = '100', o: TransferOptions = {}): CountedRequest => ({
  requestId: `req-${++n}`,
  at,
  intent: intent(transfer({ ...o, value })),
});
