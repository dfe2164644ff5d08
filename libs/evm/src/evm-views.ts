import { getAddress, numberToHex, padHex, type Address, type Hex } from 'viem';
import { EvmEncodingError, evmKeyInfo, evmSignature, safeContractSignature, type EvmKeyInfo } from './frost-evm.js';

/**
 * What the coordinator shows and checks of a key or a signature for the EVM (issue 12 §1). Only the
 * `secp256k1` suite (FROST(secp256k1, SHA-256)) has an EVM view: `secp256k1-tr` signs BIP340 Schnorr,
 * which contracts/FrostSecp256k1.sol does not verify, and the other suites have no precompile.
 */

/** The one suite whose signatures the verifier contract checks. */
export const EVM_SUITE = 'secp256k1';

export const hasEvmView = (suite: string): boolean => suite === EVM_SUITE;

/** A key's EVM view, or null when its suite has none. */
export function evmKeyView(suite: string, groupPublicKeyHex: string): EvmKeyInfo | null {
  return hasEvmView(suite) ? evmKeyInfo(groupPublicKeyHex) : null;
}

/** What a key's `key.registered` audit entry records of its EVM use (nothing for other suites). */
export function evmAuditDetails(suite: string, groupPublicKeyHex: string): Record<string, unknown> {
  const info = evmKeyView(suite, groupPublicKeyHex);
  if (!info) return {};
  return { evmUsable: info.usable, evmAddress: info.address, ...(info.usable ? {} : { evmReason: info.reason }) };
}

/**
 * Why an aggregate signature of a `secp256k1` key must not be released (null when it may be): z = 0
 * (the ecrecover check would divide by zero, and such a "signature" proves nothing on-chain) or any
 * other encoding a contract could not read. Other suites: always null.
 */
export function evmReleaseProblem(suite: string, signatureHex: string): string | null {
  if (!hasEvmView(suite)) return null;
  try {
    evmSignature(signatureHex);
    return null;
  } catch (e) {
    if (e instanceof EvmEncodingError) return e.message;
    throw e;
  }
}

export interface EvmSignatureView {
  /** `abi.encode(uint256 rx, uint256 ry, uint256 z)`: the `signature` argument of FrostEip1271Signer. */
  signature: Hex;
  rx: Hex;
  ry: Hex;
  z: Hex;
  /** The address the verifier derives from the group key (the key view's `evm.address`). */
  verifierAddress: Address;
  /** The Safe v1.4.1 contract-signature bytes for `safeOwner` (the EIP-1271 signer owning the Safe), or null. */
  safeSignature: Hex | null;
  /** `safeOwner` checksummed (EIP-55), or null. */
  safeOwner: Address | null;
}

const word = (n: bigint): Hex => padHex(numberToHex(n), { size: 32 });

/**
 * The EVM encodings of a completed `secp256k1` request's signature; null for other suites or when
 * there is no signature yet (or, never in practice, one no contract could read). `safeOwner` (any case) frames the signature for one Safe owner contract.
 */
export function evmSignatureView(suite: string, groupPublicKeyHex: string, signatureHex: string | null, safeOwner?: string): EvmSignatureView | null {
  // A signature a contract cannot read is never released (evmReleaseProblem); null rather than a 500 all the same.
  if (!hasEvmView(suite) || signatureHex === null || evmReleaseProblem(suite, signatureHex) !== null) return null;
  const sig = evmSignature(signatureHex);
  const owner = safeOwner === undefined ? null : getAddress(safeOwner);
  return {
    signature: sig.encoded,
    rx: word(sig.rx),
    ry: word(sig.ry),
    z: word(sig.z),
    verifierAddress: evmKeyInfo(groupPublicKeyHex).address,
    // Bytes in lower case like every other hex of the API (the owner's slot would carry its checksum case).
    safeSignature: owner === null ? null : (safeContractSignature(owner, sig.encoded).toLowerCase() as Hex),
    safeOwner: owner,
  };
}
