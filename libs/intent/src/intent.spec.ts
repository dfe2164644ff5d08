import { createHash } from 'node:crypto';
import { TypedDataEncoder, hashMessage, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import type { Intent, Payload, TypedData } from '#protocol';
import { IntentError, digestHex, eip712Hashes, intentHash, signedBytes, summarizeIntent } from './index.js';
import { BARE, BATCH, MAIL, PERMIT, TRANSFER } from './testing/typed-data-samples.js';

/**
 * The product hashes with viem; every digest here is checked against ethers, an independent
 * implementation of EIP-191 and EIP-712.
 */

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const strip = (h: string): string => h.replace(/^0x/, '');

/** ethers' view of a typed-data payload: its EIP-712 digest, domain separator and struct hash. */
function ethersHashes(td: TypedData) {
  const { EIP712Domain: _, ...types } = td.types;
  return {
    digest: strip(TypedDataEncoder.hash(td.domain, types, td.message)),
    domainSeparator: strip(TypedDataEncoder.hashDomain(td.domain)),
    structHash: strip(TypedDataEncoder.from(types).hash(td.message)),
  };
}

describe('signedBytes: the bytes FROST signs, per payload kind', () => {
  it('text: its UTF-8 bytes; bytes and digest: the bytes given', () => {
    expect(hex(signedBytes({ kind: 'text', text: 'pay 🍕 to alice' }))).toBe(hex(toUtf8Bytes('pay 🍕 to alice')));
    expect(digestHex({ kind: 'bytes', hex: '00ff10' })).toBe('00ff10');
    expect(digestHex({ kind: 'digest', hex: 'ab'.repeat(32), hash: 'bitcoin-sighash' })).toBe('ab'.repeat(32));
  });

  it('eip191: personal_sign of the text, or of the raw bytes, as ethers hashes it', () => {
    for (const text of ['hello', 'pay 🍕', '0x1234 is text here', 'a'.repeat(1000)]) {
      expect(digestHex({ kind: 'eip191', message: text })).toBe(strip(hashMessage(text)));
    }
    const raw = Uint8Array.from([0, 1, 2, 0xfe, 0xff]);
    expect(digestHex({ kind: 'eip191', message: { hex: '0x0001' + '02feff' } })).toBe(strip(hashMessage(raw)));
    expect(digestHex({ kind: 'eip191', message: { hex: '0x00010' + '2FEFF' } })).toBe(strip(hashMessage(raw)));
  });

  it.each([
    ['the EIP-712 Mail example (nested structs, explicit EIP712Domain)', MAIL],
    ['a USDC Permit (uint256 max as a decimal string)', PERMIT],
    ['an ERC-20 transfer, the amount a decimal string', TRANSFER],
    ['struct arrays, bytes, bytes32[2], negative ints, nested arrays, bool, a salt', BATCH],
    ['a domain with only verifyingContract', BARE],
  ])('eip712: %s: digest, domain separator and struct hash as ethers computes them', (_what, typedData) => {
    const ours = eip712Hashes(typedData);
    const theirs = ethersHashes(typedData);
    expect({ digest: strip(ours.digest), domainSeparator: strip(ours.domainSeparator), structHash: strip(ours.structHash) }).toEqual(theirs);
    expect(digestHex({ kind: 'eip712', typedData })).toBe(theirs.digest);
  });

  it('eip712: the Mail example has the digest the EIP-712 specification gives', () => {
    expect(digestHex({ kind: 'eip712', typedData: MAIL })).toBe('be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2');
  });

  const withMessage = (td: TypedData, message: TypedData['message']): TypedData => ({ ...td, message });
  it.each([
    [
      'a field of an undefined type',
      { ...TRANSFER, types: { Transfer: [...TRANSFER.types.Transfer!, { name: 'memo', type: 'Memo' }] }, message: { ...TRANSFER.message, memo: 'x' } },
      /type Memo, which is neither a basic EIP-712 type nor defined/,
    ],
    ['a missing field', withMessage(TRANSFER, { token: TRANSFER.message.token!, to: TRANSFER.message.to! }), /amount is missing/],
    ['an extra field', withMessage(TRANSFER, { ...TRANSFER.message, fee: '1' }), /does not define: fee/],
    ['an amount that is not an integer', withMessage(TRANSFER, { ...TRANSFER.message, amount: '1.5' }), /must be an integer/],
    ['an amount in hex', withMessage(TRANSFER, { ...TRANSFER.message, amount: '0x10' }), /must be an integer/],
    ['a negative uint', withMessage(TRANSFER, { ...TRANSFER.message, amount: '-1' }), /out of range for uint256/],
    ['a uint256 one past its range', withMessage(TRANSFER, { ...TRANSFER.message, amount: (1n << 256n).toString() }), /out of range/],
    ['an int64 one below its range', withMessage(BATCH, { ...BATCH.message, legs: [{ to: '0x6666666666666666666666666666666666666666', delta: '-9223372036854775809', memo: '0x' }] }), /out of range for int64/],
    ['an EIP712Domain that is not the domain’s', { ...PERMIT, types: { ...PERMIT.types, EIP712Domain: [{ name: 'name', type: 'string' }] } }, /EIP712Domain/],
    ['an undefined primary type', { ...TRANSFER, primaryType: 'Payment' }, /Payment is not defined/],
    ['bytes that are not hex', withMessage(BATCH, { ...BATCH.message, legs: [{ to: '0x6666666666666666666666666666666666666666', delta: 1, memo: 'hello' }] }), /hex/],
    ['a fixed array of the wrong length', withMessage(BATCH, { ...BATCH.message, tags: [`0x${'01'.repeat(32)}`] }), /2 items/],
  ])('eip712: refuses %s with IntentError', (_what, typedData, message) => {
    const payload: Payload = { kind: 'eip712', typedData };
    expect(() => signedBytes(payload)).toThrow(IntentError);
    expect(() => signedBytes(payload)).toThrow(message);
  });
});

const INTENT: Intent = {
  version: 1,
  keyId: '7bada169-4c1e-4f5a-9d8e-0123456789ab',
  payload: { kind: 'eip712', typedData: TRANSFER },
  chainId: 8453,
  sequence: 12,
  deadline: 1_900_000_000_000,
  proposer: 'principal:9e3f',
  description: 'pay the auditors',
  note: 'invoice 2026-114',
};

/** The same value with every object's keys in reverse order, at every depth. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reordered(v)]));
  }
  return value;
}

/** Sorted-key JSON written here, apart from the library's canonicalJson. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

describe('intentHash', () => {
  it('is SHA-256 of "roundtable/intent/v1\\n" and the intent as sorted-key JSON', () => {
    const expected = createHash('sha256').update(`roundtable/intent/v1\n${sortedJson(INTENT)}`).digest('hex');
    expect(intentHash(INTENT)).toBe(expected);
  });

  it('does not depend on the order of keys, at any depth', () => {
    const shuffled = reordered(INTENT) as Intent;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(INTENT));
    expect(intentHash(shuffled)).toBe(intentHash(INTENT));
  });

  it.each([
    ['keyId', { keyId: '7bada169-4c1e-4f5a-9d8e-0123456789ac' }],
    ['payload (one character of the recipient)', { payload: { kind: 'eip712', typedData: { ...TRANSFER, message: { ...TRANSFER.message, to: '0x5555555555555555555555555555555555555556' } } } }],
    ['payload kind (same bytes as text instead of eip191)', { payload: { kind: 'text', text: 'x' } }],
    ['chainId', { chainId: 1 }],
    ['chainId (to null)', { chainId: null }],
    ['sequence', { sequence: 13 }],
    ['sequence (to null)', { sequence: null }],
    ['deadline (by a millisecond)', { deadline: 1_900_000_000_001 }],
    ['proposer', { proposer: 'admin' }],
    ['description', { description: 'pay the auditors.' }],
    ['note', { note: '' }],
  ] as const)('changes when %s changes', (_what, change) => {
    expect(intentHash({ ...INTENT, ...change })).not.toBe(intentHash(INTENT));
  });

  it('refuses an intent larger than MAX_INTENT_BYTES', () => {
    const withMemos = (n: number) =>
      ({ ...INTENT, payload: { kind: 'eip712', typedData: { ...TRANSFER, message: { ...TRANSFER.message, memos: Array.from({ length: n }, () => 'm'.repeat(15_000)) } } } }) as Intent;
    expect(() => intentHash(withMemos(2))).not.toThrow();
    expect(() => intentHash(withMemos(3))).toThrow(IntentError);
  });
});

describe('summarizeIntent headlines', () => {
  it('names the domain and its contract when each is there, and never leaves a gap', () => {
    const of = (typedData: TypedData) => summarizeIntent({ ...INTENT, payload: { kind: 'eip712', typedData } }, '00'.repeat(32)).headline;
    expect(of(BARE)).toBe('EIP-712 Ping at 0x8888888888888888888888888888888888888888');
    expect(of({ ...BARE, domain: { name: 'Pinger' } })).toBe('EIP-712 Ping for Pinger');
    expect(of({ ...BARE, domain: { name: 'Pinger', verifyingContract: BARE.domain.verifyingContract } })).toBe('EIP-712 Ping for Pinger at 0x8888888888888888888888888888888888888888');
    expect(of({ ...BARE, domain: {} })).toBe('EIP-712 Ping');
  });
});
