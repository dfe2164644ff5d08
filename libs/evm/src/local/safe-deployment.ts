import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decodeFunctionResult, encodeFunctionData, getAddress, zeroAddress, type Abi, type Address, type Hex } from 'viem';
import type { SafeTransaction } from '../safe-tx.js';
import type { LocalEvm, TransactionResult } from './local-evm.js';

/**
 * A real Safe v1.4.1 in the local EVM: the singleton and the proxy factory from the Hardhat artifacts
 * that @safe-global/safe-contracts ships (a devDependency), a proxy set up with the given owners. The
 * same bytecode as the canonical mainnet deployments; nothing here is a mock.
 */

interface HardhatArtifact {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
}

const require = createRequire(import.meta.url);
const safeArtifact = (path: string): HardhatArtifact =>
  JSON.parse(readFileSync(require.resolve(`@safe-global/safe-contracts/build/artifacts/contracts/${path}`), 'utf8')) as HardhatArtifact;

export const SAFE_ARTIFACT = safeArtifact('Safe.sol/Safe.json');
export const SAFE_PROXY_FACTORY_ARTIFACT = safeArtifact('proxies/SafeProxyFactory.sol/SafeProxyFactory.json');
export const SAFE_ABI = SAFE_ARTIFACT.abi;

/** A deployed Safe proxy and the calls the tests and the demo make on it. */
export class LocalSafe {
  constructor(
    private readonly evm: LocalEvm,
    readonly address: Address,
  ) {}

  private async view(functionName: string, args: readonly unknown[] = []): Promise<unknown> {
    const r = await this.evm.call(this.address, encodeFunctionData({ abi: SAFE_ABI, functionName, args }));
    if (!r.success) throw new Error(`Safe.${functionName} reverted${r.revertReason ? `: ${r.revertReason}` : ''}`);
    return decodeFunctionResult({ abi: SAFE_ABI, functionName, data: r.returnData });
  }

  async nonce(): Promise<bigint> {
    return (await this.view('nonce')) as bigint;
  }

  async owners(): Promise<Address[]> {
    return (await this.view('getOwners')) as Address[];
  }

  async threshold(): Promise<bigint> {
    return (await this.view('getThreshold')) as bigint;
  }

  /** The Safe's own safeTxHash of `tx` (Safe.getTransactionHash). */
  async transactionHash(tx: SafeTransaction): Promise<Hex> {
    const { to, value, data, operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver, nonce } = tx;
    return (await this.view('getTransactionHash', [to, value, data, operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver, nonce])) as Hex;
  }

  /** execTransaction from the first account (anyone may relay a signed Safe transaction). */
  async execTransaction(tx: SafeTransaction, signatures: Hex): Promise<TransactionResult> {
    const { to, value, data, operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver } = tx;
    return this.evm.sendTransaction({
      to: this.address,
      data: encodeFunctionData({
        abi: SAFE_ABI,
        functionName: 'execTransaction',
        args: [to, value, data, operation, safeTxGas, baseGas, gasPrice, gasToken, refundReceiver, signatures],
      }),
    });
  }
}

/** Deploys the Safe singleton and factory, then a proxy with `owners` and `threshold`, funded with `fund` wei. */
export async function deploySafe(evm: LocalEvm, owners: readonly Address[], threshold = 1n, fund = 0n): Promise<LocalSafe> {
  const singleton = await evm.deploy(SAFE_ARTIFACT);
  const factory = await evm.deploy(SAFE_PROXY_FACTORY_ARTIFACT);
  const initializer = encodeFunctionData({
    abi: SAFE_ABI,
    functionName: 'setup',
    args: [owners, threshold, zeroAddress, '0x', zeroAddress, zeroAddress, 0n, zeroAddress],
  });
  const created = await evm.sendTransaction({
    to: factory.address,
    data: encodeFunctionData({ abi: SAFE_PROXY_FACTORY_ARTIFACT.abi, functionName: 'createProxyWithNonce', args: [singleton.address, initializer, 0n] }),
  });
  if (!created.success) throw new Error(`createProxyWithNonce reverted${created.revertReason ? `: ${created.revertReason}` : ''}`);
  const proxy = getAddress(
    decodeFunctionResult({ abi: SAFE_PROXY_FACTORY_ARTIFACT.abi, functionName: 'createProxyWithNonce', data: created.returnData }) as Address,
  );
  if (fund > 0n) {
    const funded = await evm.sendTransaction({ to: proxy, value: fund });
    if (!funded.success) throw new Error('funding the Safe reverted');
  }
  return new LocalSafe(evm, proxy);
}
