// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {FrostSecp256k1} from "./FrostSecp256k1.sol";

/// @title An EIP-1271 signer bound to one Roundtable FROST(secp256k1, SHA-256) group key.
/// @notice Make this contract the owner of a Safe (or any smart account that accepts EIP-1271 owners):
/// the account then accepts exactly the signatures the key's signer nodes produce. The signature bytes
/// are abi.encode(uint256 rx, uint256 ry, uint256 z), R decompressed (Roundtable's request view gives
/// them). Stateless: the key is immutable, set once in the constructor.
///
/// A bad signature never reverts: both interfaces return a value other than the magic value
/// (0xffffffff), whatever the bytes (wrong length included), so a caller that tries several owners or
/// several encodings is not cut short; the caller (Safe: GS024) decides to revert.
contract FrostEip1271Signer {
    /// @dev EIP-1271: isValidSignature(bytes32,bytes).
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;
    /// @dev The legacy interface Safe v1.4.1 calls: isValidSignature(bytes,bytes).
    bytes4 internal constant LEGACY_MAGIC_VALUE = 0x20c13b0b;
    bytes4 internal constant INVALID = 0xffffffff;

    /// @notice The group public key's affine coordinates.
    uint256 public immutable px;
    uint256 public immutable py;

    error KeyNotOnCurve();
    error KeyNotUsable();

    /// @param x The group key's x-coordinate: must be below the group order (the ecrecover trick).
    /// @param y The group key's y-coordinate: (x, y) must be a point of secp256k1.
    constructor(uint256 x, uint256 y) {
        if (!FrostSecp256k1.isOnCurve(x, y)) revert KeyNotOnCurve();
        if (x == 0 || x >= FrostSecp256k1.N) revert KeyNotUsable();
        px = x;
        py = y;
    }

    /// @notice EIP-1271: 0x1626ba7e iff `signature` is a valid signature of this key over `hash`.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        return _verify(hash, signature) ? MAGIC_VALUE : INVALID;
    }

    /// @notice Safe v1.4.1's legacy EIP-1271: 0x20c13b0b iff `signature` is valid over keccak256(data)
    /// (Safe passes the EIP-712 preimage of the safeTxHash).
    function isValidSignature(bytes calldata data, bytes calldata signature) external view returns (bytes4) {
        return _verify(keccak256(data), signature) ? LEGACY_MAGIC_VALUE : INVALID;
    }

    /// @notice The verifier address of the key, keccak256(px ‖ py)[12:] (what Roundtable's key view shows).
    function keyAddress() external view returns (address) {
        return FrostSecp256k1.pointAddress(px, py);
    }

    function _verify(bytes32 hash, bytes calldata signature) private view returns (bool) {
        if (signature.length != 96) return false;
        (uint256 rx, uint256 ry, uint256 z) = abi.decode(signature, (uint256, uint256, uint256));
        return FrostSecp256k1.verify(hash, px, py, rx, ry, z);
    }
}
