import { secp256k1 } from '@noble/curves/secp256k1.js';
import { AbiCoder, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { SigningRequestResponse } from '#api';
import { aggregateOrBlame, commit, dealKey, groupPublicKey, hexToBytes, signShare, sortCommitments, type SuiteId } from '#crypto';
import type { RequestView, SigningRequestRecord } from '#domain';
import { evmKeyView } from '#evm';
import { intent } from '../../../../libs/intent/src/testing/grant-fixtures.js';
import { toSigningRequestDto } from './signing-requests.dto.js';

const MESSAGE = '11'.repeat(32);

/** A real 2-of-2 signature of MESSAGE, and the key that made it. */
function signed(suite: SuiteId): { groupPublicKey: string; signature: string } {
  const dealt = dealKey(suite, 2, 2);
  const rounds = Object.keys(dealt.secretShares).map((id) => ({ id, ...commit(suite, id, dealt.secretShares[id]!) }));
  const list = sortCommitments(suite, rounds.map((r) => r.commitment));
  const shares = Object.fromEntries(rounds.map((r) => [r.id, signShare(dealt.public, r.id, dealt.secretShares[r.id]!, r.nonces, list, hexToBytes(MESSAGE))]));
  const result = aggregateOrBlame(dealt.public, list, hexToBytes(MESSAGE), shares);
  if (!result.ok) throw new Error(result.message);
  return { groupPublicKey: groupPublicKey(dealt.public), signature: result.signature };
}

function view(suite: SuiteId, pk: string, signature: string | null): RequestView {
  const now = new Date();
  const request: SigningRequestRecord = {
    id: '00000000-0000-4000-8000-00000000000b',
    keyId: '00000000-0000-4000-8000-00000000000a',
    intent: intent({ kind: 'bytes', hex: MESSAGE }, { keyId: '00000000-0000-4000-8000-00000000000a' }),
    intentHash: 'bb'.repeat(32),
    proposer: 'admin',
    message: MESSAGE,
    messageEncoding: 'hex',
    description: '',
    status: signature ? 'completed' : 'signing',
    deadline: now,
    idempotencyKey: null,
    requestHash: 'cc'.repeat(32),
    createdBy: 'admin',
    createdAt: now,
    updatedAt: now,
    completedAt: signature ? now : null,
    signature,
    failureCode: null,
    failureReason: null,
    culprits: [],
    attemptCount: 1,
    blamelessRefusals: {},
  };
  return { request, attempts: [], groupPublicKey: pk, suite, decisions: [] };
}

describe('the request view for the EVM', () => {
  it('gives a completed secp256k1 request abi.encode(rx, ry, z) of its R and z, and its verifier address', () => {
    const { groupPublicKey: pk, signature } = signed('secp256k1');
    const dto = SigningRequestResponse.parse(toSigningRequestDto(view('secp256k1', pk, signature)));
    const R = secp256k1.Point.fromHex(signature.slice(0, 66)).toAffine();
    const z = BigInt(`0x${signature.slice(66)}`);
    const [rx, ry, dz] = AbiCoder.defaultAbiCoder().decode(['uint256', 'uint256', 'uint256'], dto.evm!.signature) as unknown as bigint[];
    expect([rx, ry, dz]).toEqual([R.x, R.y, z]);
    expect(BigInt(dto.evm!.rx)).toBe(R.x);
    expect(BigInt(dto.evm!.z)).toBe(z);
    expect(dto.evm!.verifierAddress).toBe(evmKeyView('secp256k1', pk)!.address);
    expect(dto.evm!.safeSignature).toBeNull();
  });

  it('frames the signature for ?safeOwner= and answers the owner checksummed', () => {
    const { groupPublicKey: pk, signature } = signed('secp256k1');
    const owner = '0x' + 'ab'.repeat(20);
    const dto = SigningRequestResponse.parse(toSigningRequestDto(view('secp256k1', pk, signature), { safeOwner: owner }));
    expect(dto.evm!.safeOwner).toBe(getAddress(owner));
    expect(dto.evm!.safeSignature).toBe(`0x${'00'.repeat(12)}${'ab'.repeat(20)}${(65).toString(16).padStart(64, '0')}00${(96).toString(16).padStart(64, '0')}${dto.evm!.signature.slice(2)}`);
  });

  it('has no EVM view before completion, nor for other suites (secp256k1-tr signs BIP340)', () => {
    const secp = signed('secp256k1');
    expect(toSigningRequestDto(view('secp256k1', secp.groupPublicKey, null)).evm).toBeNull();
    const tr = signed('secp256k1-tr');
    expect(SigningRequestResponse.parse(toSigningRequestDto(view('secp256k1-tr', tr.groupPublicKey, tr.signature))).evm).toBeNull();
    const ed = signed('ed25519');
    expect(toSigningRequestDto(view('ed25519', ed.groupPublicKey, ed.signature), { safeOwner: '0x' + 'ab'.repeat(20) }).evm).toBeNull();
  });
});
