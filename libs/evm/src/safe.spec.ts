import { bytesToHex, getAddress, hexToBytes, type Address } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { evmSignature, safeContractSignature } from './frost-evm.js';
import { deploySafe, LocalEvm, type LocalSafe } from './local/index.js';
import { safeTransaction, safeTxHash } from './safe-tx.js';
import { deploySigner } from './testing/contracts.js';
import { dealKey, thresholdSign, type DealtKey } from './testing/frost-fixtures.js';

/**
 * A real Safe v1.4.1 (singleton + proxy factory from @safe-global/safe-contracts' build artifacts) owned
 * by a FrostEip1271Signer, threshold 1: a FROST threshold signature of the safeTxHash moves its funds.
 */

const ETH = 10n ** 18n;
const RECIPIENT = getAddress('0x00000000000000000000000000000000000c0ffe');

describe('a Safe v1.4.1 owned by a FrostEip1271Signer', () => {
  let evm: LocalEvm;
  let key: DealtKey;
  let signer: Address;
  let safe: LocalSafe;

  beforeAll(async () => {
    evm = await LocalEvm.create();
    key = dealKey(2, 3);
    signer = await deploySigner(evm, key.x, key.y);
    safe = await deploySafe(evm, [signer], 1n, 5n * ETH);
  });

  it('is set up with the signer contract as its only owner, threshold 1, and funded', async () => {
    expect(await safe.owners()).toEqual([signer]);
    expect(await safe.threshold()).toBe(1n);
    expect(await evm.balanceOf(safe.address)).toBe(5n * ETH);
  });

  it("the Safe's getTransactionHash equals viem's EIP-712 hash of the SafeTx", async () => {
    for (const tx of [safeTransaction(RECIPIENT, ETH, 0n), safeTransaction(RECIPIENT, 7n, 3n, '0xdeadbeef')]) {
      expect(await safe.transactionHash(tx)).toBe(safeTxHash(safe.address, evm.chainId, tx));
    }
  });

  it('a tampered signature reverts (GS024) and moves nothing; the threshold signature executes and moves funds', async () => {
    const tx = safeTransaction(RECIPIENT, ETH, await safe.nonce());
    const hash = await safe.transactionHash(tx);
    const signature = evmSignature(bytesToHex(thresholdSign(key, hexToBytes(hash))));

    const tampered = evmSignature(bytesToHex(thresholdSign(key, hexToBytes(hash))));
    const badZ = { ...tampered, z: tampered.z ^ 1n };
    const badEncoded = `0x${[badZ.rx, badZ.ry, badZ.z].map((v) => v.toString(16).padStart(64, '0')).join('')}` as const;
    const rejected = await safe.execTransaction(tx, safeContractSignature(signer, badEncoded));
    expect(rejected.success).toBe(false);
    expect(rejected.revertReason).toBe('GS024');
    // A signature of another key, in the owner's slot: rejected the same way.
    const foreign = evmSignature(bytesToHex(thresholdSign(dealKey(2, 3), hexToBytes(hash))));
    const foreignResult = await safe.execTransaction(tx, safeContractSignature(signer, foreign.encoded));
    expect(foreignResult.revertReason).toBe('GS024');
    expect(await evm.balanceOf(RECIPIENT)).toBe(0n);
    expect(await safe.nonce()).toBe(tx.nonce);

    const executed = await safe.execTransaction(tx, safeContractSignature(signer, signature.encoded));
    expect(executed.success, executed.revertReason ?? 'reverted').toBe(true);
    expect(await evm.balanceOf(RECIPIENT)).toBe(ETH);
    expect(await evm.balanceOf(safe.address)).toBe(4n * ETH);
    expect(await safe.nonce()).toBe(tx.nonce + 1n);

    // Replaying it fails: the nonce moved on, so the Safe hashes another transaction.
    const replay = await safe.execTransaction(tx, safeContractSignature(signer, signature.encoded));
    expect(replay.success).toBe(false);
    expect(await evm.balanceOf(RECIPIENT)).toBe(ETH);
  });
});
