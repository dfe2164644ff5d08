import type { Address } from 'viem';
import { loadArtifact, type ContractArtifact } from '../artifacts.js';
import { compileSolidity, contractSources } from '../compile.js';
import type { LocalEvm } from '../local/index.js';

/**
 * A test harness contract that exposes the library's internal functions, compiled with contracts/*.sol,
 * and a generic expand_message_xmd (RFC 9380 §5.3.1, any DST and length, written plainly with
 * `sha256`) to check against the RFC's vectors and against the library's specialised challenge.
 */
export const HARNESS_SOURCE = `// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.37;

import {FrostSecp256k1} from "./FrostSecp256k1.sol";

contract FrostHarness {
    function challenge(uint256 rx, uint256 ry, uint256 px, uint256 py, bytes32 m) external view returns (uint256) {
        return FrostSecp256k1.challenge(rx, ry, px, py, m);
    }

    function verify(bytes32 m, uint256 px, uint256 py, uint256 rx, uint256 ry, uint256 z) external view returns (bool) {
        return FrostSecp256k1.verify(m, px, py, rx, ry, z);
    }

    function isOnCurve(uint256 x, uint256 y) external pure returns (bool) {
        return FrostSecp256k1.isOnCurve(x, y);
    }

    function expandMessageXmd(bytes memory message, bytes memory dst, uint256 len) external pure returns (bytes memory out) {
        require(len > 0 && len <= 8160 && dst.length <= 255, "bad params");
        uint256 ell = (len + 31) / 32;
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        bytes32 b0 = sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(len), uint8(0), dstPrime));
        bytes32 bi = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        out = abi.encodePacked(bi);
        for (uint256 i = 2; i <= ell; i++) {
            bi = sha256(abi.encodePacked(b0 ^ bi, uint8(i), dstPrime));
            out = abi.encodePacked(out, bi);
        }
        assembly { mstore(out, len) }
    }
}
`;

let compiled: Record<string, ContractArtifact> | undefined;

/** contracts/*.sol with the harness, compiled once per test file. */
export function compileWithHarness(): Record<string, ContractArtifact> {
  compiled ??= compileSolidity({ ...contractSources(), 'FrostHarness.sol': HARNESS_SOURCE });
  return compiled;
}

export function harnessArtifact(): ContractArtifact {
  const a = compileWithHarness().FrostHarness;
  if (!a) throw new Error('the harness did not compile');
  return a;
}

/** Deploys the committed FrostEip1271Signer for the key (x, y). */
export async function deploySigner(evm: LocalEvm, x: bigint, y: bigint): Promise<Address> {
  return (await evm.deploy(loadArtifact('FrostEip1271Signer'), [x, y])).address;
}
