import { describe, expect, it } from 'vitest';
import { KeyResponse } from '#api';
import { dealKey, groupPublicKey, type SuiteId } from '#crypto';
import type { KeyRecord } from '#domain';
import { evmKeyInfo } from '#evm';
import { unusableGroupKey } from '../../../../libs/evm/src/evm-test-support.js';
import { toKeyDto } from './keys.dto.js';

function keyRecord(suite: SuiteId, pkOverride?: string): KeyRecord {
  const dealt = dealKey(suite, 2, 2);
  const publicPackage = pkOverride ? { ...dealt.public, commitments: [pkOverride, ...dealt.public.commitments.slice(1)] } : dealt.public;
  const ids = Object.keys(dealt.public.verifyingShares);
  return {
    id: '00000000-0000-4000-8000-00000000000a',
    suite,
    threshold: 2,
    maxSigners: 2,
    groupPublicKey: groupPublicKey(publicPackage),
    publicPackage,
    members: ids.map((identifier, i) => ({ nodeId: `00000000-0000-4000-8000-00000000000${i + 1}`, identifier, verifyingShare: dealt.public.verifyingShares[identifier]! })),
    status: 'active',
    origin: 'dealer',
    createdAt: new Date(),
  };
}

describe('the key view for the EVM', () => {
  it('gives a secp256k1 key its EVM view (usable, address, coordinates)', () => {
    const key = keyRecord('secp256k1');
    const dto = KeyResponse.parse(toKeyDto(key));
    expect(dto.evm).toEqual({ ...evmKeyInfo(key.groupPublicKey), usable: true, reason: null });
    expect(dto.evm!.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('says clearly when a secp256k1 key cannot be verified on the EVM', () => {
    const dto = KeyResponse.parse(toKeyDto(keyRecord('secp256k1', unusableGroupKey())));
    expect(dto.evm).toMatchObject({ usable: false, reason: expect.stringMatching(/x-coordinate is not below the curve order/) as unknown });
  });

  it.each(['secp256k1-tr', 'ed25519', 'p256'] as const)('has no EVM view for %s', (suite) => {
    expect(KeyResponse.parse(toKeyDto(keyRecord(suite))).evm).toBeNull();
  });
});
