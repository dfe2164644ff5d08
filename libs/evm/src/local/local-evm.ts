import { createCustomCommon, Hardfork, Mainnet, type Common } from '@ethereumjs/common';
import { createLegacyTx } from '@ethereumjs/tx';
import { createAccount, createAddressFromPrivateKey, createAddressFromString, hexToBytes, type Address as EjsAddress } from '@ethereumjs/util';
import { createVM, runTx, type VM } from '@ethereumjs/vm';
import { bytesToHex, encodeDeployData, getAddress, keccak256, stringToHex, type Abi, type Address, type Hex } from 'viem';

/**
 * An in-process EVM (@ethereumjs/vm, Prague rules) with funded accounts, for the tests and the demo: no
 * network, no node. Deploys, views (`call`, state rolled back) and signed transactions (`sendTransaction`,
 * state kept), with the gas each used. Not exported from the lib's index: @ethereumjs is a devDependency
 * and must not load in the coordinator (the demo imports this file through `#evm-local`).
 */

/** The local chain's id (Hardhat's and Anvil's default): EIP-712 domains signed for it name it. */
export const LOCAL_CHAIN_ID = 31337n;

export interface LocalAccount {
  address: Address;
  privateKey: Hex;
}

export interface CallResult {
  /** Whether the call ran to its end (false: reverted or ran out of gas). */
  success: boolean;
  returnData: Hex;
  /** Gas used by execution alone (no intrinsic 21,000, no calldata): what an inner call costs. */
  gasUsed: bigint;
  /** The revert reason when the return data is an Error(string), else null. */
  revertReason: string | null;
}

export interface TransactionResult extends CallResult {
  /** Gas the transaction paid for (intrinsic and calldata included). */
  totalGasUsed: bigint;
  /** The address a deployment created. */
  createdAddress: Address | null;
}

export interface TransactionRequest {
  from?: LocalAccount;
  to?: Address;
  data?: Hex;
  value?: bigint;
  gasLimit?: bigint;
}

const GAS_PRICE = 1_000_000_000n;
const DEFAULT_GAS_LIMIT = 10_000_000n;
const ERROR_SELECTOR = '0x08c379a0';

/** The reason string of an `Error(string)` revert, else null. */
function revertReason(data: Hex): string | null {
  if (!data.startsWith(ERROR_SELECTOR) || data.length < 10 + 128) return null;
  const length = Number(BigInt(`0x${data.slice(10 + 64, 10 + 128)}`));
  const bytes = hexToBytes(`0x${data.slice(10 + 128, 10 + 128 + 2 * length)}`);
  return new TextDecoder().decode(bytes);
}

export class LocalEvm {
  private constructor(
    private readonly vm: VM,
    private readonly common: Common,
    /** Funded accounts (1,000 ETH each at creation), deterministic keys: never use them elsewhere. */
    readonly accounts: readonly LocalAccount[],
  ) {}

  readonly chainId = LOCAL_CHAIN_ID;

  /** A fresh chain with `accounts` funded accounts. */
  static async create(accounts = 3): Promise<LocalEvm> {
    const common = createCustomCommon({ chainId: Number(LOCAL_CHAIN_ID), name: 'roundtable-local' }, Mainnet, { hardfork: Hardfork.Prague });
    const vm = await createVM({ common });
    const funded: LocalAccount[] = [];
    for (let i = 0; i < accounts; i++) {
      const privateKey = keccak256(stringToHex(`roundtable local evm account ${i}`));
      const address = createAddressFromPrivateKey(hexToBytes(privateKey));
      await vm.stateManager.putAccount(address, createAccount({ nonce: 0n, balance: 1_000n * 10n ** 18n }));
      funded.push({ address: getAddress(address.toString()), privateKey });
    }
    return new LocalEvm(vm, common, funded);
  }

  private account(index: number): LocalAccount {
    const a = this.accounts[index];
    if (!a) throw new Error(`the local EVM has no account ${index}`);
    return a;
  }

  /** Deploys `bytecode` with its constructor `args` (ABI-encoded from `abi`) from the first account. */
  async deploy(artifact: { abi: Abi; bytecode: Hex }, args: readonly unknown[] = [], from = this.account(0)): Promise<{ address: Address; gasUsed: bigint }> {
    const data = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args });
    const result = await this.sendTransaction({ from, data });
    if (!result.success || !result.createdAddress) throw new Error(`deployment reverted${result.revertReason ? `: ${result.revertReason}` : ''}`);
    return { address: result.createdAddress, gasUsed: result.totalGasUsed };
  }

  /**
   * A view: runs the call and rolls its state changes back. Warm and cold accesses (EIP-2929) start
   * afresh as in a transaction's first call: precompiles, caller and callee warm, the rest cold.
   */
  async call(to: Address, data: Hex, from: Address = this.account(0).address): Promise<CallResult> {
    const journal = this.vm.evm.journal;
    journal.cleanJournal();
    for (const [precompile] of this.vm.evm.precompiles.entries()) journal.addAlwaysWarmAddress(precompile);
    for (const a of [from, to]) journal.addAlwaysWarmAddress(a.slice(2).toLowerCase());
    await this.vm.stateManager.checkpoint();
    try {
      const result = await this.vm.evm.runCall({
        caller: createAddressFromString(from),
        origin: createAddressFromString(from),
        to: createAddressFromString(to),
        data: hexToBytes(data),
        gasLimit: DEFAULT_GAS_LIMIT,
      });
      const returnData = bytesToHex(result.execResult.returnValue);
      return {
        success: result.execResult.exceptionError === undefined,
        returnData,
        gasUsed: result.execResult.executionGasUsed,
        revertReason: revertReason(returnData),
      };
    } finally {
      await this.vm.stateManager.revert();
      journal.cleanJournal();
    }
  }

  /** A signed legacy transaction, executed and kept (a reverted one still pays its gas). */
  async sendTransaction(request: TransactionRequest): Promise<TransactionResult> {
    const from = request.from ?? this.account(0);
    const sender = createAddressFromPrivateKey(hexToBytes(from.privateKey));
    const nonce = (await this.vm.stateManager.getAccount(sender))?.nonce ?? 0n;
    const tx = createLegacyTx(
      {
        nonce,
        gasPrice: GAS_PRICE,
        gasLimit: request.gasLimit ?? DEFAULT_GAS_LIMIT,
        ...(request.to ? { to: request.to } : {}),
        value: request.value ?? 0n,
        data: request.data ?? '0x',
      },
      { common: this.common },
    ).sign(hexToBytes(from.privateKey));
    const result = await runTx(this.vm, { tx, skipBlockGasLimitValidation: true });
    const returnData = bytesToHex(result.execResult.returnValue);
    return {
      success: result.execResult.exceptionError === undefined,
      returnData,
      gasUsed: result.execResult.executionGasUsed,
      totalGasUsed: result.totalGasSpent,
      revertReason: revertReason(returnData),
      createdAddress: result.createdAddress ? getAddress(result.createdAddress.toString()) : null,
    };
  }

  async balanceOf(address: Address): Promise<bigint> {
    const account = await this.vm.stateManager.getAccount(createAddressFromString(address));
    return account?.balance ?? 0n;
  }

  async codeAt(address: Address): Promise<Hex> {
    const target: EjsAddress = createAddressFromString(address);
    return bytesToHex(await this.vm.stateManager.getCode(target));
  }
}
