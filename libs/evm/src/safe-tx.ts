import { getAddress, hashTypedData, zeroAddress, type Address, type Hex } from 'viem';

/**
 * A Safe (v1.4.1) transaction as EIP-712 typed data: what Roundtable is asked to sign for a Safe whose
 * owner is a FrostEip1271Signer. Its digest is the Safe's `safeTxHash` (Safe.getTransactionHash): the
 * domain is `{chainId, verifyingContract: safe}`, with no name or version (Safe's DOMAIN_SEPARATOR_TYPEHASH).
 */

export interface SafeTransaction {
  to: Address;
  value: bigint;
  data: Hex;
  /** 0 = CALL, 1 = DELEGATECALL. */
  operation: 0 | 1;
  safeTxGas: bigint;
  baseGas: bigint;
  gasPrice: bigint;
  gasToken: Address;
  refundReceiver: Address;
  nonce: bigint;
}

export const SAFE_TX_TYPES = {
  EIP712Domain: [
    { name: 'chainId', type: 'uint256' },
    { name: 'verifyingContract', type: 'address' },
  ],
  SafeTx: [
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'data', type: 'bytes' },
    { name: 'operation', type: 'uint8' },
    { name: 'safeTxGas', type: 'uint256' },
    { name: 'baseGas', type: 'uint256' },
    { name: 'gasPrice', type: 'uint256' },
    { name: 'gasToken', type: 'address' },
    { name: 'refundReceiver', type: 'address' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const;

/** A plain transfer or call with no gas refund (the common case for a treasury). */
export function safeTransaction(to: Address, value: bigint, nonce: bigint, data: Hex = '0x'): SafeTransaction {
  return { to: getAddress(to), value, data, operation: 0, safeTxGas: 0n, baseGas: 0n, gasPrice: 0n, gasToken: zeroAddress, refundReceiver: zeroAddress, nonce };
}

/** The typed data in the JSON shape an `eip712` intent carries (numbers as decimal strings). */
export function safeTxTypedData(safe: Address, chainId: bigint, tx: SafeTransaction) {
  return {
    domain: { chainId: Number(chainId), verifyingContract: getAddress(safe) },
    types: {
      EIP712Domain: SAFE_TX_TYPES.EIP712Domain.map((f) => ({ ...f })),
      SafeTx: SAFE_TX_TYPES.SafeTx.map((f) => ({ ...f })),
    },
    primaryType: 'SafeTx' as const,
    message: {
      to: tx.to,
      value: tx.value.toString(),
      data: tx.data,
      operation: tx.operation,
      safeTxGas: tx.safeTxGas.toString(),
      baseGas: tx.baseGas.toString(),
      gasPrice: tx.gasPrice.toString(),
      gasToken: tx.gasToken,
      refundReceiver: tx.refundReceiver,
      nonce: tx.nonce.toString(),
    },
  };
}

/** The safeTxHash, computed off-chain with viem (must equal Safe.getTransactionHash). */
export function safeTxHash(safe: Address, chainId: bigint, tx: SafeTransaction): Hex {
  return hashTypedData({
    domain: { chainId, verifyingContract: getAddress(safe) },
    types: { SafeTx: SAFE_TX_TYPES.SafeTx },
    primaryType: 'SafeTx',
    message: tx,
  });
}
