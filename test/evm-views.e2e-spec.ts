import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { AbiCoder, getAddress } from 'ethers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyResponse, SigningRequestResponse } from '#api';
import { getSuite, type SuiteId } from '#crypto';
import { evmKeyInfo, safeContractSignature } from '#evm';
import { verifyIndependently } from '#verify';
import { initKeystore, KDF_COSTS, runDealer, type SignerNode } from '#signer';
import { buildAdminProgram } from '../apps/admin/src/program.js';
import { unusableGroupKey } from '../libs/evm/src/evm-test-support.js';
import { allowAllPolicy } from '../libs/signer/src/testing/test-policy.js';
import { startTestCoordinator, ADMIN_TOKEN, type TestCoordinator } from './support/coordinator.js';
import { realSignerNode } from './support/signer-node.js';

/**
 * The coordinator's EVM views (issue 12) with a real secp256k1 key dealt to real signer nodes: the key's
 * verifier address and coordinates, a completed request's abi.encode(rx, ry, z) and Safe framing, no EVM
 * view for other suites, a bad `safeOwner` refused, and an unusable key registered but said to be so.
 */
describe('EVM views of keys and signing requests (real coordinator, real signer nodes)', () => {
  let coord: TestCoordinator;
  const root = join(tmpdir(), `roundtable-evm-views-${process.pid}-${Date.now()}`);
  const keystores = [1, 2, 3].map((i) => join(root, `node-${i}`));
  const passphrases = [1, 2, 3].map((i) => `evm views passphrase ${i}`);
  const nodeIds: string[] = [];
  const running = new Set<SignerNode>();

  const startNodes = async () => {
    for (const [i, dir] of keystores.entries()) {
      const node = realSignerNode(coord, dir, passphrases[i]!, { policy: allowAllPolicy() });
      await node.start();
      running.add(node);
    }
  };
  const deal = async (suite: SuiteId) => {
    const dealt = await runDealer({ coordinatorUrl: coord.httpUrl, adminToken: ADMIN_TOKEN, suite, threshold: 2, keystores });
    return KeyResponse.parse((await coord.api('GET', `/v1/keys/${dealt.keyId}`)).body);
  };
  const signHex = async (keyId: string, hex: string) => {
    const created = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, message: hex, encoding: 'hex', description: 'evm views' });
    expect(created.status).toBe(201);
    const done = await coord.api('GET', `/v1/signing-requests/${created.body.id}?waitMs=20000`);
    return SigningRequestResponse.parse(done.body);
  };

  beforeAll(async () => {
    coord = await startTestCoordinator({ attemptStaggerMs: 2_000 });
    for (const [i, dir] of keystores.entries()) {
      const { publicKey } = await initKeystore({ keystore: dir, passphrase: passphrases[i]!, kdfCost: KDF_COSTS.test });
      nodeIds.push((await coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `evm-${i + 1}` })).body.id);
    }
  });
  afterEach(async () => {
    await Promise.all([...running].map((n) => n.stop()));
    running.clear();
  });
  afterAll(async () => {
    await coord?.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('a secp256k1 key shows its verifier; its completed request gives abi.encode(rx, ry, z) and, with ?safeOwner=, the Safe framing', async () => {
    await startNodes();
    const key = await deal('secp256k1');
    expect(key.evm).toEqual({ ...evmKeyInfo(key.groupPublicKey), usable: true, reason: null });
    const { x, y } = secp256k1.Point.fromHex(key.groupPublicKey).toAffine();
    expect([BigInt(key.evm!.x), BigInt(key.evm!.y)]).toEqual([x, y]);

    const registered = await coord.api<{ entries: { action: string; details: Record<string, unknown> }[] }>('GET', `/v1/audit?keyId=${key.id}&action=key.registered`);
    expect(registered.body.entries[0]?.details).toMatchObject({ evmUsable: true, evmAddress: key.evm!.address });

    const digest = 'ab'.repeat(32);
    const done = await signHex(key.id, digest);
    expect(done.status).toBe('completed');
    const signature = done.signature!;
    expect(await verifyIndependently('secp256k1', signature, Buffer.from(digest, 'hex'), key.groupPublicKey)).toBe(true);
    const R = secp256k1.Point.fromHex(signature.slice(0, 66)).toAffine();
    const z = BigInt(`0x${signature.slice(66)}`);
    const [rx, ry, dz] = AbiCoder.defaultAbiCoder().decode(['uint256', 'uint256', 'uint256'], done.evm!.signature) as unknown as bigint[];
    expect([rx, ry, dz]).toEqual([R.x, R.y, z]);
    expect(done.evm).toMatchObject({ verifierAddress: key.evm!.address, safeSignature: null, safeOwner: null });

    const owner = '0x' + 'c0ffee00'.repeat(5);
    const framed = await coord.api('GET', `/v1/signing-requests/${done.id}?safeOwner=${owner}`);
    expect(framed.status).toBe(200);
    const evm = SigningRequestResponse.parse(framed.body).evm!;
    expect(evm.safeOwner).toBe(getAddress(owner));
    expect(evm.safeSignature).toBe(safeContractSignature(getAddress(owner) as `0x${string}`, done.evm!.signature as `0x${string}`).toLowerCase());
    // the admin CLI's `requests show --safe-owner` prints the same view
    const printed: string[] = [];
    const program = buildAdminProgram({ out: (t) => printed.push(t), progress: () => undefined, setExitCode: () => undefined });
    await program.parseAsync(['--coordinator', coord.httpUrl, '--admin-token', ADMIN_TOKEN, 'requests', 'show', done.id, '--safe-owner', owner], { from: 'user' });
    expect(SigningRequestResponse.parse(JSON.parse(printed.join('\n'))).evm).toEqual(evm);
    // the list shows the same encodings (without a Safe owner)
    const list = await coord.api<unknown[]>('GET', `/v1/signing-requests?keyId=${key.id}`);
    expect(SigningRequestResponse.array().parse(list.body)[0]?.evm?.signature).toBe(done.evm!.signature);
  });

  it('a request of another suite has evm null, and a bad safeOwner is a 400', async () => {
    await startNodes();
    const key = await deal('secp256k1-tr');
    expect(key.evm).toBeNull();
    const done = await signHex(key.id, 'cd'.repeat(32));
    expect(done.status).toBe('completed');
    expect(done.evm).toBeNull();
    expect(SigningRequestResponse.parse((await coord.api('GET', `/v1/signing-requests/${done.id}?safeOwner=0x${'11'.repeat(20)}`)).body).evm).toBeNull();
    for (const bad of ['0x1234', 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00', `0x${'zz'.repeat(20)}`]) {
      const res = await coord.api<{ error: { code: string } }>('GET', `/v1/signing-requests/${done.id}?safeOwner=${bad}`);
      expect(res.status).toBe(400);
    }
  });

  it('registers a secp256k1 key no contract can verify, and says so in its view and its audit entry', async () => {
    // A consistent public package around a group key with x >= n: verifying shares Y_i = P + i·C1.
    const suite = getSuite('secp256k1');
    const P = secp256k1.Point.fromHex(unusableGroupKey());
    const C1 = secp256k1.Point.BASE.multiply(123456789n);
    const ids = [1, 2, 3].map((i) => suite.identifier(i));
    const verifyingShares = Object.fromEntries(ids.map((id, i) => [id, P.add(C1.multiply(BigInt(i + 1))).toHex(true)]));
    const res = await coord.api('POST', '/v1/keys', {
      suite: 'secp256k1',
      threshold: 2,
      maxSigners: 3,
      commitments: [P.toHex(true), C1.toHex(true)],
      verifyingShares,
      members: ids.map((identifier, i) => ({ nodeId: nodeIds[i]!, identifier })),
    });
    expect(res.status).toBe(201);
    const key = KeyResponse.parse(res.body);
    expect(key.evm).toMatchObject({ usable: false, reason: expect.stringMatching(/not below the curve order/) as unknown });
    const audit = await coord.api<{ entries: { details: Record<string, unknown> }[] }>('GET', `/v1/audit?keyId=${key.id}&action=key.registered`);
    expect(audit.body.entries[0]?.details).toMatchObject({ evmUsable: false, evmReason: key.evm!.reason, evmAddress: key.evm!.address });
  });
});
