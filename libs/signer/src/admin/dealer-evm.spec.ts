import { describe, expect, it, vi } from 'vitest';
import { dealKey, groupPublicKey, type DealtKey } from '#crypto';
import { unusableGroupKey } from '../../../evm/src/evm-test-support.js';
import { MAX_EVM_DEALS, dealForEvm } from './dealer-evm.js';

/** A dealt secp256k1 key whose group key is swapped for one no contract can verify (x >= n). */
function unusable(): DealtKey {
  const dealt = dealKey('secp256k1', 2, 3);
  return { ...dealt, public: { ...dealt.public, commitments: [unusableGroupKey(), ...dealt.public.commitments.slice(1)] } };
}

describe('dealForEvm', () => {
  it('returns the first key, with its EVM view, when the EVM is not required', () => {
    const deal = vi.fn(unusable);
    const out = dealForEvm('secp256k1', false, deal);
    expect(deal).toHaveBeenCalledTimes(1);
    expect(out.deals).toBe(1);
    expect(out.evm).toMatchObject({ usable: false, reason: expect.stringMatching(/not below the curve order/) as unknown });
    expect(dealForEvm('ed25519', false, () => dealKey('ed25519', 2, 3)).evm).toBeNull();
  });

  it('deals again until the key is usable when the EVM is required', () => {
    const good = dealKey('secp256k1', 2, 3);
    const deal = vi.fn<() => DealtKey>().mockReturnValueOnce(unusable()).mockReturnValueOnce(unusable()).mockReturnValue(good);
    const out = dealForEvm('secp256k1', true, deal);
    expect(out.deals).toBe(3);
    expect(out.dealt).toBe(good);
    expect(out.evm).toMatchObject({ usable: true, reason: null });
    expect(groupPublicKey(out.dealt.public)).toBe(good.public.commitments[0]);
  });

  it('gives up after MAX_EVM_DEALS, and refuses --evm for a suite the contract does not verify', () => {
    const deal = vi.fn(unusable);
    expect(() => dealForEvm('secp256k1', true, deal)).toThrow(expect.objectContaining({ code: 'DEALER_INVALID' }) as Error);
    expect(deal).toHaveBeenCalledTimes(MAX_EVM_DEALS);
    expect(() => dealForEvm('secp256k1-tr', true, deal)).toThrow(/needs the secp256k1 suite/);
  });
});
