import { getAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { safeTransaction, safeTxTypedData } from '#evm';
import type { Intent } from '#protocol';
import { decide } from '../../../libs/signer/src/policy/policy-evaluate.js';
import { compileRule } from '../../../libs/signer/src/policy/policy-conditions.js';
import { parsePolicySource } from '../../../libs/signer/src/policy/policy-document.js';
import { DEMO_POLICIES, LOCAL_CHAIN_ID, PAYROLL } from './demo-policies.js';

/** The demo's policy files load, and every node signs the demo Safe's transfer (safe-flow.ts) and nothing wider. */
const SAFE = getAddress('0x6615c2a6e945c3fd728bfa98626cab8b83b962a8');
const ETH = 10n ** 18n;
const NOW = Date.UTC(2026, 11, 1, 12);

const safeIntent = (tx = safeTransaction(PAYROLL, ETH, 0n), over: Partial<Intent> = {}): Intent => ({
  version: 1,
  keyId: '00000000-0000-4000-8000-000000000001',
  payload: { kind: 'eip712', typedData: safeTxTypedData(SAFE, BigInt(LOCAL_CHAIN_ID), tx) },
  chainId: LOCAL_CHAIN_ID,
  sequence: null,
  deadline: NOW + 600_000,
  proposer: 'admin',
  description: 'Demo Safe transfer: 1 ETH to payroll',
  note: '',
  ...over,
});

describe('demo policies and the Safe flow', () => {
  const nodes = DEMO_POLICIES.map((source, i) => parsePolicySource(source, `node-${i + 1}`).document.rules.map(compileRule));
  const outcome = (i: number, subject: Intent) => decide(nodes[i] ?? [], subject, NOW, () => ({ state: 'yes' })).outcome;

  it.each([0, 1, 2])("node %i's policy allows the demo Safe's 1 ETH transfer to payroll", (i) => {
    expect(outcome(i, safeIntent())).toBe('allow');
  });

  it.each([
    ['more than 1 ETH', safeIntent(safeTransaction(PAYROLL, 2n * ETH, 0n))],
    ['another recipient', safeIntent(safeTransaction('0x000000000000000000000000000000000000dEaD', ETH, 0n))],
    ['a call with data', safeIntent(safeTransaction(PAYROLL, 1n, 0n, '0xa9059cbb'))],
    ['a delegatecall', safeIntent({ ...safeTransaction(PAYROLL, 1n, 0n), operation: 1 })],
    ['another description', safeIntent(undefined, { description: 'Vendor invoice' })],
  ])('no node allows %s', (_what, subject) => {
    for (const i of [0, 1, 2]) expect(outcome(i, subject)).not.toBe('allow');
  });
});
