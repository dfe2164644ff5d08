import type { TypedData } from '#protocol';

/** Typed data shapes for tests of EIP-712 hashing (checked against ethers wherever they are used). */

/** The example of the EIP-712 specification itself (Ether Mail), with its EIP712Domain type given. */
export const MAIL: TypedData = {
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  },
  primaryType: 'Mail',
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
};

export const PERMIT: TypedData = {
  domain: { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48' },
  types: {
    Permit: [
      { name: 'owner', type: 'address' },
      { name: 'spender', type: 'address' },
      { name: 'value', type: 'uint256' },
      { name: 'nonce', type: 'uint256' },
      { name: 'deadline', type: 'uint256' },
    ],
  },
  primaryType: 'Permit',
  message: {
    owner: '0x2222222222222222222222222222222222222222',
    spender: '0x1111111111111111111111111111111111111111',
    value: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
    nonce: 3,
    deadline: '1900000000',
  },
};

export const TRANSFER: TypedData = {
  domain: { name: 'Treasury', version: '1', chainId: 8453, verifyingContract: '0x3333333333333333333333333333333333333333' },
  types: {
    Transfer: [
      { name: 'token', type: 'address' },
      { name: 'to', type: 'address' },
      { name: 'amount', type: 'uint256' },
    ],
  },
  primaryType: 'Transfer',
  message: { token: '0x4444444444444444444444444444444444444444', to: '0x5555555555555555555555555555555555555555', amount: '2500000000000000000000' },
};

/** Nested structs in arrays, fixed and dynamic arrays, bytes, bytesN, bool and negative integers. */
export const BATCH: TypedData = {
  domain: { name: 'Batch', chainId: 10, salt: `0x${'ab'.repeat(32)}` },
  types: {
    Leg: [
      { name: 'to', type: 'address' },
      { name: 'delta', type: 'int64' },
      { name: 'memo', type: 'bytes' },
    ],
    Batch: [
      { name: 'legs', type: 'Leg[]' },
      { name: 'tags', type: 'bytes32[2]' },
      { name: 'offsets', type: 'int256[]' },
      { name: 'grid', type: 'uint8[][]' },
      { name: 'final', type: 'bool' },
    ],
  },
  primaryType: 'Batch',
  message: {
    legs: [
      { to: '0x6666666666666666666666666666666666666666', delta: -5, memo: '0x' },
      { to: '0x7777777777777777777777777777777777777777', delta: '9223372036854775807', memo: '0xdeadBEEF' },
    ],
    tags: [`0x${'01'.repeat(32)}`, `0x${'02'.repeat(32)}`],
    offsets: ['-57896044618658097711785492504343953926634992332820282019728792003956564819968', '0', 12],
    grid: [[1, 2], [], [255]],
    final: true,
  },
};

/** A domain without chainId or name: only verifyingContract. */
export const BARE: TypedData = {
  domain: { verifyingContract: '0x8888888888888888888888888888888888888888' },
  types: { Ping: [{ name: 'n', type: 'uint16' }] },
  primaryType: 'Ping',
  message: { n: 65535 },
};
