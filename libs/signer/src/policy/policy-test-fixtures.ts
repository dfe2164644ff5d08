import type { Intent, Payload, TypedData } from '#protocol';
import { compileRule, type CompiledRule } from './policy-conditions.js';
import { PolicyDocument, type Rule } from './policy-schema.js';

/** Shared fixtures for the policy specs: intents of each payload kind and rule builders. */

export const KEY = '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41';
export const OTHER_KEY = '0d9e7c1a-5b3f-4a2e-8c6d-2f1b4e7a9c30';
export const USDC = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48';
export const DAI = '0x6B175474E89094C44Da98b954EedeAC495271d0F';
export const ALICE = '0x1111111111111111111111111111111111111111';
export const BOB = '0x2222222222222222222222222222222222222222';
export const MALLORY = '0x9999999999999999999999999999999999999999';

/** 2024-01-02 (a Tuesday) 10:30 UTC. */
export const TUESDAY_1030_UTC = Date.UTC(2024, 0, 2, 10, 30);

export function transfer(opts: { to?: string; value?: string | number; token?: string; chainId?: number; memo?: string } = {}): TypedData {
  return {
    domain: { name: 'USD Coin', version: '2', chainId: opts.chainId ?? 1, verifyingContract: opts.token ?? USDC },
    types: {
      Transfer: [
        { name: 'to', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'memo', type: 'string' },
      ],
    },
    primaryType: 'Transfer',
    message: { to: opts.to ?? ALICE, value: opts.value ?? '1000', memo: opts.memo ?? 'rent' },
  };
}

/** A nested typed message: an order with a maker struct and an array of items. */
export const order = (): TypedData => ({
  domain: { name: 'Exchange', chainId: 1 },
  types: {
    Person: [
      { name: 'wallet', type: 'address' },
      { name: 'verified', type: 'bool' },
    ],
    Item: [
      { name: 'amount', type: 'int256' },
      { name: 'tag', type: 'bytes4' },
    ],
    Order: [
      { name: 'maker', type: 'Person' },
      { name: 'items', type: 'Item[]' },
    ],
  },
  primaryType: 'Order',
  message: { maker: { wallet: BOB, verified: true }, items: [{ amount: '-5', tag: '0xDEADBEEF' }, { amount: 7, tag: '0x00000000' }] },
});

export function intent(payload: Payload | TypedData, over: Partial<Intent> = {}): Intent {
  const p: Payload = 'kind' in payload ? payload : { kind: 'eip712', typedData: payload };
  return {
    version: 1,
    keyId: KEY,
    payload: p,
    chainId: p.kind === 'eip712' ? (p.typedData.domain.chainId ?? null) : null,
    sequence: null,
    deadline: TUESDAY_1030_UTC + 3600_000,
    proposer: 'admin',
    description: 'monthly rent',
    note: '',
    ...over,
  };
}

export const text = (t: string, over: Partial<Intent> = {}): Intent => intent({ kind: 'text', text: t }, over);
export const bytes = (hex: string): Intent => intent({ kind: 'bytes', hex });
export const digest = (): Intent => intent({ kind: 'digest', hex: 'ab'.repeat(32), hash: 'sha256' });

/** A rule parsed through the document schema (so the fixtures are valid documents), compiled. */
export function rule(outcome: Rule['outcome'], match: object, id = `${outcome}-rule`, limits: object[] = []): CompiledRule {
  const doc = PolicyDocument.parse({ version: 1, rules: [{ id, outcome, match }], limits });
  return compileRule(doc.rules[0]!);
}

export const rules = (...list: [Rule['outcome'], object, string?][]): CompiledRule[] => {
  const doc = PolicyDocument.parse({ version: 1, rules: list.map(([outcome, match, id], i) => ({ id: id ?? `r${i}`, outcome, match })) });
  return doc.rules.map(compileRule);
};
