import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFunctionData, getAddress, hexToBytes, parseAbi, toHex, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evmKeyInfo, evmSignature, loadArtifact, safeContractSignature, safeTransaction, safeTxHash, safeTxTypedData } from '#evm';
import { deploySafe, LocalEvm, type LocalSafe } from '#evm-local';
import { initKeystore, KDF_COSTS, type SignerNode } from '#signer';
import { dealKey, thresholdSign } from '../libs/evm/src/testing/frost-fixtures.js';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { realSignerNode } from './support/signer-node.js';

/**
 * Issue 12 end to end: a secp256k1 key made by a ceremony among three real signer nodes owns a real Safe
 * v1.4.1 (through FrostEip1271Signer) in an in-process EVM; the Safe transaction goes through the
 * coordinator as an EIP-712 intent of the Safe's own domain, the nodes approve and sign, and the
 * completed request's signature executes the transfer. A tampered one reverts and moves nothing.
 */

const ETH = 10n ** 18n;
const EIP1271 = parseAbi(['function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)']);
/** The signer's gas ceiling for isValidSignature(bytes32, bytes), as libs/evm/src/evm-gas.spec.ts states it. */
const EIP1271_GAS_CEILING = 6_500n;
const words = (...v: bigint[]): Hex => `0x${v.map((x) => toHex(x, { size: 32 }).slice(2)).join('')}`;
const RECIPIENT = getAddress('0x000000000000000000000000000000000000a11c');

describe('a Safe owned by a Roundtable key executes a transfer the signer nodes signed', () => {
  let coord: TestCoordinator;
  let evm: LocalEvm;
  let safe: LocalSafe;
  let signerContract: Address;
  let keyId: string;
  const root = join(tmpdir(), `roundtable-evm-e2e-${process.pid}-${Date.now()}`);
  const nodes: SignerNode[] = [];

  beforeAll(async () => {
    coord = await startTestCoordinator();
    const nodeIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = join(root, `node-${i + 1}`);
      const passphrase = `evm e2e passphrase of node ${i + 1}`;
      const { publicKey } = await initKeystore({ keystore: dir, passphrase, kdfCost: KDF_COSTS.test });
      nodeIds.push((await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` })).body.id);
      nodes.push(realSignerNode(coord, dir, passphrase));
    }
    await Promise.all(nodes.map((n) => n.start()));
    for (let i = 0; i < 100; i++) {
      const listed = (await coord.api<{ connected: boolean }[]>('GET', '/v1/nodes')).body;
      if (listed.filter((n) => n.connected).length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    const started = await coord.api<{ id: string; keyId: string }>('POST', '/v1/ceremonies', { suite: 'secp256k1', threshold: 2, nodeIds });
    expect(started.status).toBe(201);
    let ceremony = { status: 'round1', failureReason: null as string | null };
    for (let i = 0; i < 400 && !['completed', 'failed'].includes(ceremony.status); i++) {
      await new Promise((r) => setTimeout(r, 25));
      ceremony = (await coord.api<typeof ceremony>('GET', `/v1/ceremonies/${started.body.id}`)).body;
    }
    expect(ceremony.status, ceremony.failureReason ?? '').toBe('completed');
    keyId = started.body.keyId;

    const key = (await coord.api<{ groupPublicKey: string }>('GET', `/v1/keys/${keyId}`)).body;
    const info = evmKeyInfo(key.groupPublicKey);
    // A ceremony key has x ≥ n with probability about 2^-128; the coordinator refuses to make such keys.
    expect(info.usable, info.reason ?? '').toBe(true);
    evm = await LocalEvm.create();
    signerContract = (await evm.deploy(loadArtifact('FrostEip1271Signer'), [BigInt(info.x), BigInt(info.y)])).address;
    safe = await deploySafe(evm, [signerContract], 1n, 3n * ETH);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('the coordinator signs the safeTxHash of an EIP-712 SafeTx intent; execTransaction accepts it, a tampered copy reverts', async () => {
    const tx = safeTransaction(RECIPIENT, ETH, await safe.nonce());
    const onChainHash = await safe.transactionHash(tx);
    expect(safeTxHash(safe.address, evm.chainId, tx)).toBe(onChainHash);

    const created = await coord.api<{ id: string; digest: string }>('POST', '/v1/signing-requests', {
      keyId,
      payload: { kind: 'eip712', typedData: safeTxTypedData(safe.address, evm.chainId, tx) },
      chainId: Number(evm.chainId),
      description: 'Safe: pay 1 ETH to alice',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // What the nodes sign is exactly what the Safe checks.
    expect(`0x${created.body.digest}`).toBe(onChainHash);

    const done = (await coord.api<{ status: string; signature: string | null; digest: string }>('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`)).body;
    expect(done.status).toBe('completed');
    expect(done.signature).toMatch(/^[0-9a-f]{130}$/);
    const sig = evmSignature(done.signature!);

    const tamperedZ = sig.z ^ (1n << 17n);
    const tampered: Hex = `0x${[sig.rx, sig.ry, tamperedZ].map((v) => v.toString(16).padStart(64, '0')).join('')}`;
    const rejected = await safe.execTransaction(tx, safeContractSignature(signerContract, tampered));
    expect(rejected.success).toBe(false);
    expect(rejected.revertReason).toBe('GS024');
    expect(await evm.balanceOf(RECIPIENT)).toBe(0n);

    const before = await evm.balanceOf(safe.address);
    const executed = await safe.execTransaction(tx, safeContractSignature(signerContract, sig.encoded));
    expect(executed.success, executed.revertReason ?? 'reverted').toBe(true);
    expect(await evm.balanceOf(RECIPIENT)).toBe(ETH);
    expect(await evm.balanceOf(safe.address)).toBe(before - ETH);
    expect(await safe.nonce()).toBe(tx.nonce + 1n);
  });

  it("the signer contract accepts the nodes' signature of an approved intent, rejects every tampering, within its gas ceiling", async () => {
    const tx = safeTransaction(RECIPIENT, 2n, (await safe.nonce()) + 5n);
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', {
      keyId,
      payload: { kind: 'eip712', typedData: safeTxTypedData(safe.address, evm.chainId, tx) },
      chainId: Number(evm.chainId),
    });
    expect(created.status).toBe(201);
    const done = (await coord.api<{ status: string; signature: string | null; digest: string }>('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`)).body;
    expect(done.status).toBe('completed');
    const digest: Hex = `0x${done.digest}`;
    const { rx, ry, z, encoded } = evmSignature(done.signature!);
    const check = async (hash: Hex, signature: Hex) => {
      const r = await evm.call(signerContract, encodeFunctionData({ abi: EIP1271, functionName: 'isValidSignature', args: [hash, signature] }));
      expect(r.success).toBe(true);
      return { value: r.returnData.slice(0, 10), gas: r.gasUsed };
    };
    const accepted = await check(digest, encoded);
    expect(accepted.value).toBe('0x1626ba7e');
    expect(accepted.gas).toBeLessThan(EIP1271_GAS_CEILING);

    const flippedDigest = toHex(BigInt(digest) ^ 1n, { size: 32 });
    const other = dealKey(2, 3);
    const foreign = evmSignature(Buffer.from(thresholdSign(other, hexToBytes(digest))).toString('hex'));
    for (const [hash, signature] of [
      [digest, words(rx ^ 1n, ry, z)],
      [digest, words(rx, ry ^ 2n, z)],
      [digest, words(rx, ry, z ^ 1n)],
      [digest, words(rx, ry, 0n)],
      [flippedDigest, encoded],
      [digest, foreign.encoded],
    ] as const) {
      expect((await check(hash, signature)).value).toBe('0xffffffff');
    }
  });

  it("the coordinator's own EVM views suffice: the key view's coordinates and address, the request view's Safe signature", async () => {
    const keyView = (await coord.api<{ evm: { usable: boolean; address: string; x: string; y: string } | null }>('GET', `/v1/keys/${keyId}`)).body;
    expect(keyView.evm?.usable).toBe(true);
    const keyAddress = await evm.call(signerContract, encodeFunctionData({ abi: parseAbi(['function keyAddress() view returns (address)']), functionName: 'keyAddress' }));
    expect(getAddress(`0x${keyAddress.returnData.slice(-40)}`)).toBe(keyView.evm?.address);

    const tx = safeTransaction(RECIPIENT, 3n, await safe.nonce());
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', {
      keyId,
      payload: { kind: 'eip712', typedData: safeTxTypedData(safe.address, evm.chainId, tx) },
      chainId: Number(evm.chainId),
    });
    expect(created.status).toBe(201);
    await coord.api('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`);
    const view = (
      await coord.api<{ status: string; signature: string; evm: { signature: string; safeSignature: string | null; safeOwner: string | null } | null }>(
        'GET',
        `/v1/signing-requests/${created.body.id}?safeOwner=${signerContract.toLowerCase()}`,
      )
    ).body;
    expect(view.status).toBe('completed');
    expect(view.evm?.signature).toBe(evmSignature(view.signature).encoded);
    expect(view.evm?.safeOwner).toBe(signerContract);
    const safeSignature = view.evm?.safeSignature as Hex;
    expect(safeSignature).toBe(safeContractSignature(signerContract, evmSignature(view.signature).encoded));
    const before = await evm.balanceOf(RECIPIENT);
    const executed = await safe.execTransaction(tx, safeSignature);
    expect(executed.success, executed.revertReason ?? 'reverted').toBe(true);
    expect(await evm.balanceOf(RECIPIENT)).toBe(before + 3n);
  });
});
