import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { AbiCoder, getAddress as ethersGetAddress, keccak256 as ethersKeccak } from 'ethers';
import { describe, expect, it } from 'vitest';
import { SECP256K1_N } from './frost-evm.js';
import { evmAuditDetails, evmKeyView, evmReleaseProblem, evmSignatureView } from './evm-views.js';
import { unusableGroupKey } from './evm-test-support.js';

const randomScalar = (): bigint => (BigInt(`0x${randomBytes(32).toString('hex')}`) % (SECP256K1_N - 1n)) + 1n;
const hex32 = (n: bigint) => n.toString(16).padStart(64, '0');

/** A random 65-byte FROST(secp256k1, SHA-256) signature shape: R = k·G compressed, then z. */
function randomSignature(z = randomScalar()): { hex: string; rx: bigint; ry: bigint; z: bigint } {
  const R = secp256k1.Point.BASE.multiply(randomScalar());
  const { x, y } = R.toAffine();
  return { hex: `${R.toHex(true)}${hex32(z)}`, rx: x, ry: y, z };
}

const groupKey = () => secp256k1.Point.BASE.multiply(randomScalar()).toHex(true);
const coder = AbiCoder.defaultAbiCoder();

describe('evm key view', () => {
  it('gives a secp256k1 key its address (keccak of x ‖ y) and coordinates, and nothing for other suites', () => {
    const pk = groupKey();
    const view = evmKeyView('secp256k1', pk)!;
    const { x, y } = secp256k1.Point.fromHex(pk).toAffine();
    expect(view).toEqual({ usable: true, reason: null, address: view.address, x: `0x${hex32(x)}`, y: `0x${hex32(y)}` });
    expect(view.address).toBe(ethersGetAddress(`0x${ethersKeccak(`0x${hex32(x)}${hex32(y)}`).slice(-40)}`));
    expect(evmKeyView('secp256k1-tr', pk.slice(2))).toBeNull();
    expect(evmKeyView('ed25519', '00'.repeat(32))).toBeNull();
    expect(evmAuditDetails('secp256k1', pk)).toEqual({ evmUsable: true, evmAddress: view.address });
    expect(evmAuditDetails('p256', pk)).toEqual({});
  });

  it('says a key whose x is not below n is unusable, and why', () => {
    const view = evmKeyView('secp256k1', unusableGroupKey())!;
    expect(view.usable).toBe(false);
    expect(view.reason).toMatch(/x-coordinate is not below the curve order/);
    expect(evmAuditDetails('secp256k1', unusableGroupKey())).toMatchObject({ evmUsable: false, evmReason: view.reason });
  });
});

describe('evm signature view', () => {
  it('encodes abi.encode(rx, ry, z) exactly as ethers does, for random signatures', () => {
    const pk = groupKey();
    for (let i = 0; i < 20; i++) {
      const sig = randomSignature();
      const view = evmSignatureView('secp256k1', pk, sig.hex)!;
      expect(view.signature).toBe(coder.encode(['uint256', 'uint256', 'uint256'], [sig.rx, sig.ry, sig.z]));
      expect(view.rx).toBe(`0x${hex32(sig.rx)}`);
      expect(view.ry).toBe(`0x${hex32(sig.ry)}`);
      expect(view.z).toBe(`0x${hex32(sig.z)}`);
      expect(view.verifierAddress).toBe(evmKeyView('secp256k1', pk)!.address);
      expect(view.safeSignature).toBeNull();
      expect(view.safeOwner).toBeNull();
    }
  });

  it('frames the signature for a Safe owner: {r = owner, s = 65, v = 0}, then the length and the bytes', () => {
    const pk = groupKey();
    const sig = randomSignature();
    const owner = `0x${randomBytes(20).toString('hex')}`;
    const view = evmSignatureView('secp256k1', pk, sig.hex, owner.toUpperCase().replace('0X', '0x'))!;
    expect(view.safeOwner).toBe(ethersGetAddress(owner));
    const bytes = Buffer.from(view.safeSignature!.slice(2), 'hex');
    expect(view.safeSignature).toBe(view.safeSignature!.toLowerCase());
    expect(bytes.length).toBe(65 + 32 + 96);
    expect(bytes.subarray(0, 12).equals(Buffer.alloc(12))).toBe(true);
    expect(`0x${bytes.subarray(12, 32).toString('hex')}`).toBe(owner.toLowerCase());
    expect(BigInt(`0x${bytes.subarray(32, 64).toString('hex')}`)).toBe(65n);
    expect(bytes[64]).toBe(0);
    expect(BigInt(`0x${bytes.subarray(65, 97).toString('hex')}`)).toBe(96n);
    expect(`0x${bytes.subarray(97).toString('hex')}`).toBe(view.signature);
  });

  it('has no view for other suites, no signature, or a signature no contract could read', () => {
    const pk = groupKey();
    expect(evmSignatureView('secp256k1', pk, null)).toBeNull();
    expect(evmSignatureView('secp256k1-tr', pk.slice(2), randomSignature().hex.slice(2))).toBeNull();
    expect(evmSignatureView('secp256k1', pk, randomSignature(0n).hex)).toBeNull();
  });
});

describe('evmReleaseProblem', () => {
  it('refuses z = 0 (and z >= n) for secp256k1 only', () => {
    expect(evmReleaseProblem('secp256k1', randomSignature().hex)).toBeNull();
    expect(evmReleaseProblem('secp256k1', randomSignature(0n).hex)).toMatch(/z is zero/);
    expect(evmReleaseProblem('secp256k1', randomSignature(SECP256K1_N).hex)).toMatch(/not below the curve order/);
    expect(evmReleaseProblem('ed25519', '00'.repeat(64))).toBeNull();
    expect(evmReleaseProblem('secp256k1-tr', '00'.repeat(64))).toBeNull();
  });
});
