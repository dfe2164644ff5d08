import { secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import type { DealerShares } from '@noble/curves/abstract/frost.js';
import { bytesToHex } from 'viem';
import { SECP256K1_N } from '../frost-evm.js';

/**
 * Keys and signatures from noble's secp256k1_FROST (RFC 9591) for the contract tests: a trusted-dealer
 * t-of-n key and a full round of signing (commit, signShare, aggregate) by the first `min` signers.
 */

export interface DealtKey {
  deal: DealerShares;
  /** The group public key, 33 bytes compressed, hex without 0x. */
  groupKey: string;
  /** Its affine coordinates. */
  x: bigint;
  y: bigint;
}

/** A dealt key whose x-coordinate is below n (redealt otherwise: the ecrecover trick needs it). */
export function dealKey(min = 2, max = 3): DealtKey {
  for (;;) {
    const deal = secp256k1_FROST.trustedDealer({ min, max });
    const commitment = deal.public.commitments[0];
    if (!commitment) throw new Error('the dealer returned no group commitment');
    const { x, y } = secp256k1.Point.fromBytes(commitment).toAffine();
    if (x < SECP256K1_N) return { deal, groupKey: bytesToHex(commitment).slice(2), x, y };
  }
}

/** A threshold signature (R ‖ z, 65 bytes) over `message` by the first `count` holders of the key. */
export function thresholdSign(key: DealtKey, message: Uint8Array, count = key.deal.public.signers.min): Uint8Array {
  const holders = Object.values(key.deal.secretShares).slice(0, count);
  const rounds = holders.map((secret) => ({ secret, ...secp256k1_FROST.commit(secret) }));
  const commitments = rounds.map((r) => r.commitments);
  const shares: Record<string, Uint8Array> = {};
  for (const r of rounds) shares[r.secret.identifier] = secp256k1_FROST.signShare(r.secret, key.deal.public, r.nonces, commitments, message);
  const signature = secp256k1_FROST.aggregate(key.deal.public, commitments, message, shares);
  if (!secp256k1_FROST.verify(signature, message, key.deal.public.commitments[0] as Uint8Array)) throw new Error('noble rejected its own signature');
  return signature;
}
