import { encodeFunctionData, formatEther, parseAbi, type Hex } from 'viem';
import { evmKeyInfo, evmSignature, loadArtifact, safeContractSignature, safeTransaction, safeTxHash, safeTxTypedData } from '#evm';
import { deploySafe, LocalEvm } from '#evm-local';
import type { LocalCluster } from '#harness';
import { PAYROLL } from './demo-policies.js';

interface Out {
  step: (text: string) => void;
  info: (text: string) => void;
}

interface RequestView {
  id: string;
  status: string;
  digest: string;
  summary: string;
  signature: string | null;
  attempts: { participants: string[] }[];
  failure: { code: string; reason: string | null } | null;
}

const ETH = 10n ** 18n;
const EIP1271 = parseAbi(['function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)']);
const eth = (wei: bigint) => `${formatEther(wei)} ETH`;

/**
 * Issue 12 in the demo: a Safe v1.4.1 (the real contracts, in an in-process EVM, chain 31337) whose only
 * owner is a FrostEip1271Signer bound to a 2-of-3 secp256k1 key from a ceremony among the nodes. The
 * Safe transfer goes to the coordinator as an EIP-712 intent of the Safe's own domain; the nodes' policies
 * allow it (demo-policies.ts, rule demo-safe); the completed signature executes the transfer, after a
 * tampered copy of it was refused. `true` when all of that held.
 */
export async function safeFlow(cluster: LocalCluster, { step, info }: Out): Promise<boolean> {
  let ok = true;
  step('A Safe owned by a threshold key: a 2-of-3 secp256k1 key from a ceremony among the nodes');
  const key = await cluster.runCeremony('secp256k1', 2, (status) => info(`ceremony: ${status}`));
  const evmKey = evmKeyInfo(key.groupPublicKey);
  info(`key ${key.id}, group public key ${key.groupPublicKey}`);
  if (!evmKey.usable) {
    info(`this key cannot be used on the EVM: ${evmKey.reason}`);
    return false;
  }
  info(`verifier address (keccak256(x ‖ y)[12:]) ${evmKey.address}`);

  step('An in-process EVM: the FrostEip1271Signer for that key, and a Safe v1.4.1 whose only owner it is (threshold 1), funded with 10 ETH');
  const evm = await LocalEvm.create();
  const signer = await evm.deploy(loadArtifact('FrostEip1271Signer'), [BigInt(evmKey.x), BigInt(evmKey.y)]);
  const safe = await deploySafe(evm, [signer.address], 1n, 10n * ETH);
  info(`chain ${evm.chainId}; signer contract ${signer.address} (deployed for ${signer.gasUsed.toLocaleString('en-US')} gas)`);
  info(`Safe ${safe.address}, owners ${(await safe.owners()).join(', ')}, threshold ${await safe.threshold()}`);

  const tx = safeTransaction(PAYROLL, ETH, await safe.nonce());
  const onChainHash = await safe.transactionHash(tx);
  step(`A proposer submits the Safe transaction as an EIP-712 SafeTx intent: pay 1 ETH to payroll (Safe nonce ${tx.nonce})`);
  const created = await cluster.api<RequestView>('POST', '/v1/signing-requests', {
    keyId: key.id,
    payload: { kind: 'eip712', typedData: safeTxTypedData(safe.address, evm.chainId, tx) },
    chainId: Number(evm.chainId),
    description: 'Demo Safe transfer: 1 ETH to payroll',
  });
  info(`request ${created.id}: ${created.summary}`);
  const sameHash = `0x${created.digest}` === onChainHash && safeTxHash(safe.address, evm.chainId, tx) === onChainHash;
  ok &&= sameHash;
  info(`digest ${created.digest}: ${sameHash ? "the Safe's own getTransactionHash" : `MISMATCH with the Safe's ${onChainHash}`}`);

  const done = await cluster.waitForOutcome<RequestView>(created.id);
  if (done.status !== 'completed' || !done.signature) throw new Error(`Safe request ${done.status}: ${JSON.stringify(done.failure)}`);
  const signers = done.attempts.at(-1)?.participants.map((p) => `node-${cluster.nodeIds.indexOf(p) + 1}`) ?? [];
  info(`signed by ${signers.join(' + ')}: ${done.signature}`);
  const sig = evmSignature(done.signature);
  info(`as the contract reads it, abi.encode(rx, ry, z): ${sig.encoded.slice(0, 42)}…`);

  const check = await evm.call(
    signer.address,
    encodeFunctionData({ abi: EIP1271, functionName: 'isValidSignature', args: [onChainHash, sig.encoded] }),
  );
  const accepted = check.success && check.returnData.startsWith('0x1626ba7e');
  ok &&= accepted;
  info(`the signer contract's isValidSignature(safeTxHash, signature): ${accepted ? 'the EIP-1271 magic value' : 'REFUSED'}, ${check.gasUsed.toLocaleString('en-US')} gas`);

  const balances = async () => [await evm.balanceOf(safe.address), await evm.balanceOf(PAYROLL)] as const;
  const [safeBefore, payrollBefore] = await balances();
  info(`before: Safe ${eth(safeBefore)}, payroll ${eth(payrollBefore)}`);

  step('execTransaction with a tampered signature (one bit of z flipped): the Safe must refuse it');
  const tampered: Hex = `0x${[sig.rx, sig.ry, sig.z ^ 1n].map((v) => v.toString(16).padStart(64, '0')).join('')}`;
  const rejected = await safe.execTransaction(tx, safeContractSignature(signer.address, tampered));
  const [safeMid, payrollMid] = await balances();
  const refusedOk = !rejected.success && safeMid === safeBefore && payrollMid === payrollBefore;
  ok &&= refusedOk;
  info(`${rejected.success ? 'EXECUTED (wrong!)' : `reverted: ${rejected.revertReason ?? 'no reason'}`}; balances unchanged: ${refusedOk ? 'yes' : 'NO'}`);

  step("execTransaction with the nodes' signature in Safe's contract-signature framing");
  const executed = await safe.execTransaction(tx, safeContractSignature(signer.address, sig.encoded));
  const [safeAfter, payrollAfter] = await balances();
  const moved = executed.success && safeAfter === safeBefore - ETH && payrollAfter === payrollBefore + ETH;
  ok &&= moved;
  info(executed.success ? `executed for ${executed.totalGasUsed.toLocaleString('en-US')} gas (the whole transaction)` : `REVERTED: ${executed.revertReason ?? 'no reason'}`);
  info(`after: Safe ${eth(safeAfter)}, payroll ${eth(payrollAfter)}: ${moved ? '1 ETH moved' : 'FUNDS DID NOT MOVE AS EXPECTED'}`);
  return ok;
}
