import { secp256k1 } from '@noble/curves/secp256k1.js';
import { concatHex, encodeAbiParameters, getAddress, keccak256, numberToHex, padHex, size, type Address, type Hex } from 'viem';

/**
 * What the EVM needs of a FROST(secp256k1, SHA-256) key and signature (RFC 9591 §6.5): the ecrecover
 * trick that lets a contract check `z·G == R + c·PK` (contracts/FrostSecp256k1.sol) works only for a
 * group key whose x-coordinate is below the group order, and never for z = 0. Pure functions over
 * noble's points (no curve arithmetic of our own) and viem's encoders.
 */

/** The secp256k1 group order n. */
export const SECP256K1_N = secp256k1.Point.CURVE().n;

export interface EvmKeyInfo {
  /** Whether a contract can verify this key's signatures (false: see `reason`). */
  usable: boolean;
  reason: string | null;
  /** The Ethereum address of the group public key: keccak256(x ‖ y)[12:], what a verifier contract derives from the key. */
  address: Address;
  /** The group public key's affine coordinates, 32-byte hex: the EIP-1271 signer contract's constructor arguments. */
  x: Hex;
  y: Hex;
}

const word = (n: bigint): Hex => padHex(numberToHex(n), { size: 32 });

/** The EVM view of a group key (33-byte compressed secp256k1 point, hex without 0x). */
export function evmKeyInfo(groupPublicKeyHex: string): EvmKeyInfo {
  const point = secp256k1.Point.fromHex(groupPublicKeyHex);
  const { x, y } = point.toAffine();
  const address = getAddress(`0x${keccak256(concatHex([word(x), word(y)])).slice(-40)}`);
  const usable = x < SECP256K1_N;
  return {
    usable,
    reason: usable ? null : 'the group key\'s x-coordinate is not below the curve order: the ecrecover check cannot verify its signatures',
    address,
    x: word(x),
    y: word(y),
  };
}

export interface EvmSignature {
  /** R decompressed. */
  rx: bigint;
  ry: bigint;
  z: bigint;
  /** `abi.encode(uint256 rx, uint256 ry, uint256 z)`: the `signature` bytes of the EIP-1271 signer contract. */
  encoded: Hex;
}

export class EvmEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvmEncodingError';
  }
}

/** A FROST(secp256k1, SHA-256) signature (65 bytes: compressed R ‖ z, hex) as a contract reads it. */
export function evmSignature(signatureHex: string): EvmSignature {
  const clean = signatureHex.startsWith('0x') ? signatureHex.slice(2) : signatureHex;
  if (!/^[0-9a-fA-F]{130}$/.test(clean)) throw new EvmEncodingError('a FROST(secp256k1, SHA-256) signature is 65 bytes: R (33, compressed) and z (32)');
  let rx: bigint;
  let ry: bigint;
  try {
    ({ x: rx, y: ry } = secp256k1.Point.fromHex(clean.slice(0, 66)).toAffine());
  } catch {
    throw new EvmEncodingError('R is not a point of secp256k1');
  }
  const z = BigInt(`0x${clean.slice(66)}`);
  if (z === 0n) throw new EvmEncodingError('z is zero: such a signature must never be used on the EVM');
  if (z >= SECP256K1_N) throw new EvmEncodingError('z is not below the curve order');
  const encoded = encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }], [rx, ry, z]);
  return { rx, ry, z, encoded };
}

/**
 * A Safe (v1.4.1) contract signature for one EIP-1271 owner: the 65-byte static slot `{r = owner, s =
 * offset of the dynamic part, v = 0}`, then at that offset the length and the signature bytes. With
 * several owners the static slots are sorted by owner and the offsets shifted; this is the one-owner form
 * (`staticSlots` = 1), or the tail placed after `staticSlots` slots.
 */
export function safeContractSignature(owner: Address, signature: Hex, staticSlots = 1): Hex {
  const offset = BigInt(65 * staticSlots);
  // getAddress validates the owner; the bytes are written in lower case (a checksum is no part of the bytes).
  const staticPart = concatHex([padHex(getAddress(owner).toLowerCase() as Hex, { size: 32 }), word(offset), '0x00']);
  const dynamicPart = concatHex([word(BigInt(size(signature))), signature]);
  return concatHex([staticPart, dynamicPart]).toLowerCase() as Hex;
}
