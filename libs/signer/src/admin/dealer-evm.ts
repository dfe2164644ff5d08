import { groupPublicKey, type DealtKey, type SuiteId } from '#crypto';
import { evmKeyView, type EvmKeyInfo } from '#evm';
import { SignerError } from '../signer-error.js';

/**
 * How many keys `signer dealer --evm` deals before giving up. A fresh secp256k1 key is unusable on the
 * EVM with probability about 2^-128 (its x is not below n), so a second deal is already never needed;
 * the bound only keeps a broken dealer from looping.
 */
export const MAX_EVM_DEALS = 8;

export interface EvmDeal {
  dealt: DealtKey;
  /** The key's EVM view (`secp256k1` only; null for other suites). */
  evm: EvmKeyInfo | null;
  /** How many keys were dealt to get this one (1 but for the 2^-128 case). */
  deals: number;
}

/**
 * Deals with `deal`; with `requireEvm` (`--evm`, secp256k1 only) deals again until contracts can
 * verify the key (nothing was delivered yet: a discarded key leaves no trace). Without it, an unusable
 * key is returned as it is: it signs fine off-chain, and the caller warns.
 */
export function dealForEvm(suite: SuiteId, requireEvm: boolean, deal: () => DealtKey): EvmDeal {
  if (requireEvm && suite !== 'secp256k1') {
    throw new SignerError('DEALER_INVALID', `--evm needs the secp256k1 suite (FROST(secp256k1, SHA-256)); ${suite} signatures are not verified by the EVM contract`);
  }
  for (let deals = 1; ; deals++) {
    const dealt = deal();
    const evm = evmKeyView(suite, groupPublicKey(dealt.public));
    if (!requireEvm || evm?.usable) return { dealt, evm, deals };
    if (deals >= MAX_EVM_DEALS) {
      throw new SignerError('DEALER_INVALID', `dealt ${deals} keys and none is usable on the EVM: ${evm?.reason ?? 'unknown reason'}`);
    }
  }
}
