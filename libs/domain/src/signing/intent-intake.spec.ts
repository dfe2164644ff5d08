import { describe, expect, it } from 'vitest';
import { digestHex, intentHash } from '#intent';
import type { Payload, TypedData } from '#protocol';
import { proposerOf, takeIn, type CreateRequestInput, type IntakeContext } from './intent-intake.js';

const keyId = '7bada169-4c1e-4f5a-9d8e-0123456789ab';
const now = new Date('2026-05-01T12:00:00.000Z');
const ctx: IntakeContext = { key: { threshold: 2, suite: 'secp256k1' }, now, defaultTtlMs: 60_000, maxTtlMs: 3_600_000 };

const transfer = (chainId?: number): TypedData => ({
  domain: { name: 'Treasury', version: '1', ...(chainId !== undefined ? { chainId } : {}) },
  types: { Transfer: [{ name: 'to', type: 'address' }, { name: 'amount', type: 'uint256' }] },
  primaryType: 'Transfer',
  message: { to: '0x5555555555555555555555555555555555555555', amount: '1000' },
});
const eip712 = (chainId?: number): Payload => ({ kind: 'eip712', typedData: transfer(chainId) });
const input = (over: Partial<CreateRequestInput> = {}): CreateRequestInput => ({ keyId, payload: { kind: 'text', text: 'hi' }, ...over });
const later = (ms: number) => new Date(now.getTime() + ms);

describe('takeIn: the intake rules', () => {
  it('builds the canonical intent, its hash, the digest and the legacy encoding', () => {
    const intake = takeIn(input({ chainId: 8453, sequence: 4, note: 'n', description: 'd', payload: eip712(8453) }), 'principal:p1', ctx);
    expect(intake.intent).toEqual({
      version: 1,
      keyId,
      payload: eip712(8453),
      chainId: 8453,
      sequence: 4,
      deadline: now.getTime() + 60_000,
      proposer: 'principal:p1',
      description: 'd',
      note: 'n',
    });
    expect(intake.intentHash).toBe(intentHash(intake.intent));
    expect(intake.digest).toBe(digestHex(eip712(8453)));
    expect(intake.messageEncoding).toBe('hex');
    expect(takeIn(input(), 'admin', ctx)).toMatchObject({ messageEncoding: 'utf8', digest: '6869', intent: { chainId: null, sequence: null, description: '', note: '' } });
  });

  it('hashes the request as given: a retry without a deadline matches, with another body does not', () => {
    const a = takeIn(input(), 'admin', ctx);
    const b = takeIn(input(), 'admin', { ...ctx, now: later(5) });
    expect(a.intentHash).not.toBe(b.intentHash); // the default deadline moved
    expect(a.requestHash).toBe(b.requestHash);
    expect(takeIn(input({ note: 'x' }), 'admin', ctx).requestHash).not.toBe(a.requestHash);
    expect(takeIn(input(), 'principal:p2', ctx).requestHash).not.toBe(a.requestHash);
  });

  it.each([
    ['eip712 without a chain id', input({ payload: eip712(1) }), 'CHAIN_ID_REQUIRED'],
    ['eip712 without a chain id anywhere', input({ payload: eip712() }), 'CHAIN_ID_REQUIRED'],
    ['eip712 with a chain id other than its domain’s', input({ payload: eip712(1), chainId: 10 }), 'CHAIN_ID_MISMATCH'],
    [
      'typed data with an amount that is not an integer',
      input({ chainId: 1, payload: { kind: 'eip712', typedData: { ...transfer(1), message: { to: '0x5555555555555555555555555555555555555555', amount: '1.5' } } } }),
      'INVALID_PAYLOAD',
    ],
    ['a deadline in the past', input({ deadline: later(-1) }), 'DEADLINE_PASSED'],
    ['a deadline now', input({ deadline: later(0) }), 'DEADLINE_PASSED'],
    ['a deadline under a second away', input({ deadline: later(900) }), 'VALIDATION_FAILED'],
    ['a deadline past the longest time to live', input({ deadline: later(3_600_001) }), 'VALIDATION_FAILED'],
    ['bytes too large for a signing package of 255 signers', input({ payload: { kind: 'bytes', hex: 'ab'.repeat(16_000) } }), 'VALIDATION_FAILED', 255],
    ['an intent larger than MAX_INTENT_BYTES', input({ chainId: 1, payload: { kind: 'eip712', typedData: { ...transfer(1), types: { Transfer: [{ name: 'to', type: 'string[]' }] }, message: { to: ['x'.repeat(15_000), 'y'.repeat(15_000), 'z'.repeat(15_000)] } } } }), 'VALIDATION_FAILED'],
    ['a proposer name the intent cannot hold', input(), 'VALIDATION_FAILED', 2, 'p'.repeat(201)],
  ] as const)('refuses %s: %s', (_what, proposal, code, threshold = 2, proposer = 'admin') => {
    expect(() => takeIn(proposal, proposer, { ...ctx, key: { ...ctx.key, threshold } })).toThrow(expect.objectContaining({ code }) as Error);
  });

  it('accepts the edge cases: a deadline just over a second away, at the longest time to live; eip712 whose domain has no chain id', () => {
    expect(takeIn(input({ deadline: later(1001) }), 'admin', ctx).intent.deadline).toBe(now.getTime() + 1001);
    expect(takeIn(input({ deadline: later(3_600_000) }), 'admin', ctx).intent.deadline).toBe(now.getTime() + 3_600_000);
    expect(takeIn(input({ payload: eip712(), chainId: 5 }), 'admin', ctx).intent.chainId).toBe(5);
  });

  it('names the proposer after the actor', () => {
    expect(proposerOf({ kind: 'principal', id: 'p-1', role: 'proposer' })).toBe('principal:p-1');
    expect(proposerOf({ kind: 'admin', id: 'admin-token' })).toBe('admin');
  });
});
