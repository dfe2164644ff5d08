// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

/// @title FROST(secp256k1, SHA-256) verification (RFC 9591 §6.5) with the ecrecover trick.
/// @notice Written for Roundtable from RFC 9591 and RFC 9380 (no other verifier was used as a source).
/// A signature (R, z) over a message m is valid for the group key PK iff z·G == R + c·PK with
/// c = H2(R ‖ PK ‖ m), where R and PK are SEC1-compressed (33 bytes each) and H2 is RFC 9380's
/// hash_to_field (expand_message_xmd, SHA-256, L = 48, one element) over the scalar field with the DST
/// "FROST-secp256k1-SHA256-v1" ‖ "chal".
///
/// The EVM has no scalar multiplication, but the ecrecover precompile returns the address of
/// Q = r⁻¹·(s·X − h·G) where X is the point with x-coordinate r and the y-parity given by v. With
/// X = PK (r = px, v = 27 + (py & 1)), s = −c·px mod n and h = −z·px mod n:
///     Q = px⁻¹·(−c·px·PK + z·px·G) = z·G − c·PK,
/// which equals R exactly when the FROST equation holds. The contract compares the addresses of Q and
/// of R (keccak256(rx ‖ ry)[12:]); a match by anything but equality of the points would be a
/// keccak256 collision on 160 bits of a point the signer does not control.
///
/// Limits of the trick: px must be below n (ecrecover takes r < n; Roundtable checks this when a key
/// is made), and z = 0 must be rejected (h would be 0 and the check degenerates).
library FrostSecp256k1 {
    /// @dev The secp256k1 group order n.
    uint256 internal constant N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;
    /// @dev The secp256k1 field prime p.
    uint256 internal constant P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f;

    /// @dev The last 32 bytes of msg_prime (RFC 9380 §5.3.1) but one: I2OSP(48, 2) ‖ I2OSP(0, 1) ‖ DST,
    /// where DST = "FROST-secp256k1-SHA256-v1chal" (29 bytes). msg_prime then ends with I2OSP(29, 1).
    bytes32 private constant MSG_PRIME_TAIL = 0x00300046524f53542d736563703235366b312d5348413235362d76316368616c;
    /// @dev I2OSP(1, 1) ‖ DST_prime (DST ‖ I2OSP(29, 1)): the 31 bytes after b_0 in b_1's preimage (the
    /// 32nd byte of the word is not hashed).
    bytes32 private constant B1_TAIL = 0x0146524f53542d736563703235366b312d5348413235362d76316368616c1d00;
    /// @dev Length of DST.
    uint256 private constant DST_LEN = 29;

    /// @notice Whether (x, y) is an affine point of secp256k1 (y² = x³ + 7 over F_p, coordinates below p).
    function isOnCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        uint256 lhs = mulmod(y, y, P);
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        return lhs == rhs;
    }

    /// @notice RFC 9591's H2 for FROST(secp256k1, SHA-256) of R ‖ PK ‖ message, both points compressed
    /// from their affine coordinates (only the y parity is read).
    /// @dev expand_message_xmd with len_in_bytes = 48: ell = 2, b_0 = H(Z_pad ‖ msg ‖ I2OSP(48, 2) ‖
    /// I2OSP(0, 1) ‖ DST_prime), b_1 = H(b_0 ‖ I2OSP(1, 1) ‖ DST_prime), b_2 = H((b_0 ⊕ b_1) ‖ I2OSP(2, 1)
    /// ‖ DST_prime); the 48 uniform bytes b_1 ‖ b_2[0:16], read big-endian, reduced mod n. Three calls of
    /// the SHA-256 precompile (0x02) on scratch memory past the free-memory pointer.
    function challenge(uint256 rx, uint256 ry, uint256 px, uint256 py, bytes32 message) internal view returns (uint256 c) {
        bytes32 tail = MSG_PRIME_TAIL;
        bytes32 b1Tail = B1_TAIL;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            // msg_prime (195 bytes): Z_pad (64 zero bytes) ‖ R (33) ‖ PK (33) ‖ m (32) ‖ tail (32) ‖ I2OSP(29, 1).
            mstore(ptr, 0)
            mstore(add(ptr, 0x20), 0)
            mstore8(add(ptr, 0x40), add(2, and(ry, 1)))
            mstore(add(ptr, 0x41), rx)
            mstore8(add(ptr, 0x61), add(2, and(py, 1)))
            mstore(add(ptr, 0x62), px)
            mstore(add(ptr, 0x82), message)
            mstore(add(ptr, 0xa2), tail)
            mstore8(add(ptr, 0xc2), DST_LEN)
            let ok := staticcall(gas(), 0x02, ptr, 0xc3, ptr, 0x20)
            let b0 := mload(ptr)
            // b_1 = H(b_0 ‖ 0x01 ‖ DST_prime): 63 bytes.
            mstore(add(ptr, 0x20), b1Tail)
            ok := and(ok, staticcall(gas(), 0x02, ptr, 0x3f, ptr, 0x20))
            let b1 := mload(ptr)
            // b_2 = H((b_0 ⊕ b_1) ‖ 0x02 ‖ DST_prime): same layout, counter 2.
            mstore(ptr, xor(b0, b1))
            mstore8(add(ptr, 0x20), 2)
            ok := and(ok, staticcall(gas(), 0x02, ptr, 0x3f, ptr, 0x20))
            if iszero(ok) { revert(0, 0) }
            let b2 := mload(ptr)
            // OS2IP(b_1 ‖ b_2[0:16]) mod n = (b_1·2^128 + b_2 >> 128) mod n.
            c := addmod(mulmod(b1, shl(128, 1), N), shr(128, b2), N)
        }
    }

    /// @notice Whether (R, z) is a valid FROST(secp256k1, SHA-256) signature by the group key (px, py)
    /// over the 32-byte message. Never reverts for a bad signature: returns false.
    /// @dev (px, py) is trusted to be on the curve (check it once, where the key is stored: see
    /// isOnCurve); only py's parity is used, as in the key's compressed form the challenge hashes.
    /// R need not be checked: a point off the curve has no preimage under ecrecover's output.
    function verify(bytes32 message, uint256 px, uint256 py, uint256 rx, uint256 ry, uint256 z) internal view returns (bool) {
        if (px == 0 || px >= N) return false;
        if (z == 0 || z >= N) return false;
        uint256 c = challenge(rx, ry, px, py, message);
        uint256 cpx = mulmod(c, px, N);
        // c = 0 (probability 2^-256) would give s = n, outside ecrecover's range.
        if (cpx == 0) return false;
        uint256 s = N - cpx;
        // z and px are nonzero below the prime n, so z·px mod n is nonzero and h lies in [1, n-1].
        uint256 h = N - mulmod(z, px, N);
        address recovered = ecrecover(bytes32(h), uint8(27 + (py & 1)), bytes32(px), bytes32(s));
        if (recovered == address(0)) return false;
        return recovered == pointAddress(rx, ry);
    }

    /// @notice The Ethereum address of an affine point: keccak256(x ‖ y)[12:], as ecrecover returns it.
    function pointAddress(uint256 x, uint256 y) internal pure returns (address a) {
        assembly ("memory-safe") {
            mstore(0x00, x)
            mstore(0x20, y)
            a := and(keccak256(0x00, 0x40), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }
}
