import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { secp256k1, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { bytesToHex, concatBytes as concatList, decodeFunctionResult, encodeFunctionData, hexToBytes, keccak256, parseAbi, stringToHex, toHex, type Address, type Hex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { evmSignature, SECP256K1_N } from './frost-evm.js';
import { LocalEvm } from './local/index.js';
import { deploySigner, harnessArtifact } from './testing/contracts.js';
import { dealKey, thresholdSign, type DealtKey } from './testing/frost-fixtures.js';

/**
 * contracts/FrostSecp256k1.sol against noble (RFC 9591's FROST(secp256k1, SHA-256)) and RFC 9380's
 * expand_message_xmd vectors, in the in-process EVM.
 */

const P = secp256k1.Point.CURVE().p;
const FROST_DST = 'FROST-secp256k1-SHA256-v1chal';
const SIGNER_ABI = parseAbi([
  'function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)',
  'function isValidSignature(bytes data, bytes signature) view returns (bytes4)',
  'function keyAddress() view returns (address)',
  'function px() view returns (uint256)',
]);
const EIP1271 = parseAbi(['function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)']);
const LEGACY = parseAbi(['function isValidSignature(bytes data, bytes signature) view returns (bytes4)']);
const MAGIC = '0x1626ba7e';
const LEGACY_MAGIC = '0x20c13b0b';
const INVALID = '0xffffffff';

const concatBytes = (...parts: Uint8Array[]): Uint8Array => concatList(parts);
const modPow = (b: bigint, e: bigint, m: bigint): bigint => {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};
/** The first point of secp256k1 whose x-coordinate is at least `from` (p ≡ 3 mod 4: y = (x³ + 7)^((p+1)/4)). */
function pointFrom(from: bigint): { x: bigint; y: bigint } {
  for (let x = from; ; x++) {
    const rhs = (x ** 3n + 7n) % P;
    const y = modPow(rhs, (P + 1n) / 4n, P);
    if ((y * y) % P === rhs) return { x, y };
  }
}
const compressed = (x: bigint, y: bigint): Uint8Array => concatBytes(Uint8Array.of(2 + Number(y & 1n)), hexToBytes(toHex(x, { size: 32 })));
const digest = (): Hex => bytesToHex(randomBytes(32));
const flip = (v: bigint, bit = 0): bigint => v ^ (1n << BigInt(bit));
const encodeSig = (rx: bigint, ry: bigint, z: bigint): Hex =>
  `0x${[rx, ry, z].map((v) => toHex(v, { size: 32 }).slice(2)).join('')}`;

/** RFC 9591's H2 with noble's expand_message_xmd: OS2IP(48 bytes) mod n. */
function nobleChallenge(rx: bigint, ry: bigint, px: bigint, py: bigint, message: Hex): bigint {
  const input = concatBytes(compressed(rx, ry), compressed(px, py), hexToBytes(message));
  return BigInt(bytesToHex(expand_message_xmd(input, FROST_DST, 48, sha256))) % SECP256K1_N;
}

describe('FrostSecp256k1 (the library, through a harness)', () => {
  let evm: LocalEvm;
  let harness: Address;
  const call = async (functionName: 'challenge' | 'verify' | 'isOnCurve' | 'expandMessageXmd', args: readonly unknown[]) => {
    const { abi } = harnessArtifact();
    const result = await evm.call(harness, encodeFunctionData({ abi, functionName, args }));
    expect(result.success, result.revertReason ?? 'reverted').toBe(true);
    return decodeFunctionResult({ abi, functionName, data: result.returnData });
  };

  beforeAll(async () => {
    evm = await LocalEvm.create();
    harness = (await evm.deploy(harnessArtifact())).address;
  });

  describe('expand_message_xmd (the generic harness version) matches RFC 9380 appendix K.1 (SHA-256)', () => {
    const dst = 'QUUX-V01-CS02-with-expander-SHA256-128';
    const messages = ['', 'abc', 'abcdef0123456789', `q128_${'q'.repeat(128)}`, `a512_${'a'.repeat(512)}`];
    const short = [
      '68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235',
      'd8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615',
      'eff31487c770a893cfb36f912fbfcbff40d5661771ca4b2cb4eafe524333f5c1',
      'b23a1d2b4d97b2ef7785562a7e8bac7eed54ed6e97e29aa51bfe3f12ddad1ff9',
      '4623227bcc01293b8c130bf771da8c298dede7383243dc0993d2d94823958c4c',
    ];
    const long = [
      'af84c27ccfd45d41914fdff5df25293e221afc53d8ad2ac06d5e3e29485dadbee0d121587713a3e0dd4d5e69e93eb7cd4f5df4cd103e188cf60cb02edc3edf18eda8576c412b18ffb658e3dd6ec849469b979d444cf7b26911a08e63cf31f9dcc541708d3491184472c2c29bb749d4286b004ceb5ee6b9a7fa5b646c993f0ced',
      'abba86a6129e366fc877aab32fc4ffc70120d8996c88aee2fe4b32d6c7b6437a647e6c3163d40b76a73cf6a5674ef1d890f95b664ee0afa5359a5c4e07985635bbecbac65d747d3d2da7ec2b8221b17b0ca9dc8a1ac1c07ea6a1e60583e2cb00058e77b7b72a298425cd1b941ad4ec65e8afc50303a22c0f99b0509b4c895f40',
      'ef904a29bffc4cf9ee82832451c946ac3c8f8058ae97d8d629831a74c6572bd9ebd0df635cd1f208e2038e760c4994984ce73f0d55ea9f22af83ba4734569d4bc95e18350f740c07eef653cbb9f87910d833751825f0ebefa1abe5420bb52be14cf489b37fe1a72f7de2d10be453b2c9d9eb20c7e3f6edc5a60629178d9478df',
      '80be107d0884f0d881bb460322f0443d38bd222db8bd0b0a5312a6fedb49c1bbd88fd75d8b9a09486c60123dfa1d73c1cc3169761b17476d3c6b7cbbd727acd0e2c942f4dd96ae3da5de368d26b32286e32de7e5a8cb2949f866a0b80c58116b29fa7fabb3ea7d520ee603e0c25bcaf0b9a5e92ec6a1fe4e0391d1cdbce8c68a',
      '546aff5444b5b79aa6148bd81728704c32decb73a3ba76e9e75885cad9def1d06d6792f8a7d12794e90efed817d96920d728896a4510864370c207f99bd4a608ea121700ef01ed879745ee3e4ceef777eda6d9e5e38b90c86ea6fb0b36504ba4a45d22e86f6db5dd43d98a294bebb9125d5b794e9d2a81181066eb954966a487',
    ];
    for (const [i, msg] of messages.entries()) {
      it(`msg ${JSON.stringify(msg.slice(0, 8))}…, 32 and 128 bytes`, async () => {
        for (const [len, expected] of [[32, short[i]], [128, long[i]]] as const) {
          // The vector is right (noble agrees), and the Solidity code reproduces it.
          expect(bytesToHex(expand_message_xmd(new TextEncoder().encode(msg), dst, len, sha256)).slice(2)).toBe(expected);
          expect(await call('expandMessageXmd', [stringToHex(msg), stringToHex(dst), BigInt(len)])).toBe(`0x${expected}`);
        }
      });
    }
  });

  it("challenge equals RFC 9591's H2 (noble's expand_message_xmd, 48 bytes mod n) and the generic xmd, for random inputs", async () => {
    for (let i = 0; i < 12; i++) {
      const r = secp256k1.Point.fromBytes(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())).toAffine();
      const pk = secp256k1.Point.fromBytes(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())).toAffine();
      const m = digest();
      const expected = nobleChallenge(r.x, r.y, pk.x, pk.y, m);
      expect(await call('challenge', [r.x, r.y, pk.x, pk.y, m])).toBe(expected);
      const input = bytesToHex(concatBytes(compressed(r.x, r.y), compressed(pk.x, pk.y), hexToBytes(m)));
      const uniform = (await call('expandMessageXmd', [input, stringToHex(FROST_DST), 48n])) as Hex;
      expect(BigInt(uniform) % SECP256K1_N).toBe(expected);
    }
  });

  it('isOnCurve accepts points of secp256k1 and rejects others (and coordinates ≥ p)', async () => {
    const { x, y } = secp256k1.Point.BASE.toAffine();
    expect(await call('isOnCurve', [x, y])).toBe(true);
    expect(await call('isOnCurve', [x, P - y])).toBe(true);
    expect(await call('isOnCurve', [x, flip(y)])).toBe(false);
    // A point with a small x, and the same x plus p: equal mod p, but not a canonical coordinate.
    const small = pointFrom(1n);
    expect(await call('isOnCurve', [small.x, small.y])).toBe(true);
    expect(await call('isOnCurve', [small.x + P, small.y])).toBe(false);
    expect(await call('isOnCurve', [0n, 0n])).toBe(false);
  });

  it('verify: threshold signatures from noble verify; tampering, another key, z = 0, z ≥ n and px ≥ n do not', async () => {
    const key = dealKey(2, 3);
    const other = dealKey(2, 3);
    const m = digest();
    const { rx, ry, z } = evmSignature(bytesToHex(thresholdSign(key, hexToBytes(m))));
    const ok = (args: readonly [Hex, bigint, bigint, bigint, bigint, bigint]) => call('verify', args);
    expect(await ok([m, key.x, key.y, rx, ry, z])).toBe(true);
    expect(await ok([m, key.x, key.y, flip(rx), ry, z])).toBe(false);
    expect(await ok([m, key.x, key.y, rx, flip(ry), z])).toBe(false);
    expect(await ok([m, key.x, key.y, rx, P - ry, z])).toBe(false); // −R: same x, the other parity
    expect(await ok([m, key.x, key.y, rx, ry, flip(z)])).toBe(false);
    expect(await ok([m, key.x, key.y, rx, ry, SECP256K1_N])).toBe(false); // ≡ 0 mod n
    expect(await ok([m, key.x, key.y, rx, ry, 2n ** 256n - 1n])).toBe(false);
    expect(await ok([`0x${flip(BigInt(m), 5).toString(16).padStart(64, '0')}`, key.x, key.y, rx, ry, z])).toBe(false);
    expect(await ok([m, other.x, other.y, rx, ry, z])).toBe(false);
    expect(await ok([m, key.x, key.y, rx, ry, 0n])).toBe(false);
    const high = pointFrom(SECP256K1_N); // a real point with n ≤ x < p: ecrecover cannot take it
    expect(await ok([m, high.x, high.y, rx, ry, z])).toBe(false);
    expect(await ok([m, 0n, key.y, rx, ry, z])).toBe(false);
    // The key's other parity is another key (−PK).
    expect(await ok([m, key.x, P - key.y, rx, ry, z])).toBe(false);
  });

  it('verify accepts single-party FROST signatures (noble sign) and 3-of-5 threshold ones', async () => {
    const secret = secp256k1.utils.randomSecretKey();
    const pub = secp256k1.getPublicKey(secret);
    const pk = secp256k1.Point.fromBytes(pub).toAffine();
    for (let i = 0; i < 4; i++) {
      const m = digest();
      const sig = secp256k1_FROST.sign(hexToBytes(m), secret);
      const { rx, ry, z } = evmSignature(bytesToHex(sig));
      // noble's own check says valid; so must the contract, unless px ≥ n (never, in practice).
      expect(await call('verify', [m, pk.x, pk.y, rx, ry, z])).toBe(pk.x < SECP256K1_N);
    }
    const key = dealKey(3, 5);
    const m = digest();
    const { rx, ry, z } = evmSignature(bytesToHex(thresholdSign(key, hexToBytes(m))));
    expect(await call('verify', [m, key.x, key.y, rx, ry, z])).toBe(true);
  });
});

describe('FrostEip1271Signer (the committed artifact)', () => {
  let evm: LocalEvm;
  let key: DealtKey;
  let signer: Address;
  const callSigner = async (data: Hex) => {
    const r = await evm.call(signer, data);
    expect(r.success, r.revertReason ?? 'reverted').toBe(true);
    return r.returnData.slice(0, 10);
  };
  const check1271 = (hash: Hex, signature: Hex) => callSigner(encodeFunctionData({ abi: EIP1271, functionName: 'isValidSignature', args: [hash, signature] }));
  const checkLegacy = (data: Hex, signature: Hex) => callSigner(encodeFunctionData({ abi: LEGACY, functionName: 'isValidSignature', args: [data, signature] }));

  beforeAll(async () => {
    evm = await LocalEvm.create();
    key = dealKey(2, 3);
    signer = await deploySigner(evm, key.x, key.y);
  });

  it('stores the key and derives its verifier address', async () => {
    const r = await evm.call(signer, encodeFunctionData({ abi: SIGNER_ABI, functionName: 'keyAddress' }));
    const expected = `0x${keccak256(`0x${toHex(key.x, { size: 32 }).slice(2)}${toHex(key.y, { size: 32 }).slice(2)}`).slice(-40)}`;
    expect(decodeFunctionResult({ abi: SIGNER_ABI, functionName: 'keyAddress', data: r.returnData }).toLowerCase()).toBe(expected);
  });

  it('isValidSignature(bytes32, bytes): the magic value for a valid signature, 0xffffffff for anything else, never a revert', async () => {
    const m = digest();
    const { rx, ry, z, encoded } = evmSignature(bytesToHex(thresholdSign(key, hexToBytes(m))));
    expect(await check1271(m, encoded)).toBe(MAGIC);
    expect(await check1271(m, encodeSig(flip(rx), ry, z))).toBe(INVALID);
    expect(await check1271(m, encodeSig(rx, flip(ry, 7), z))).toBe(INVALID);
    expect(await check1271(m, encodeSig(rx, ry, flip(z, 200)))).toBe(INVALID);
    expect(await check1271(m, encodeSig(rx, ry, 0n))).toBe(INVALID);
    expect(await check1271(digest(), encoded)).toBe(INVALID);
    expect(await check1271(m, `${encoded}00`)).toBe(INVALID);
    expect(await check1271(m, '0x')).toBe(INVALID);
    const fromOther = evmSignature(bytesToHex(thresholdSign(dealKey(2, 3), hexToBytes(m))));
    expect(await check1271(m, fromOther.encoded)).toBe(INVALID);
  });

  it("isValidSignature(bytes, bytes) (Safe v1.4.1's): 0x20c13b0b iff valid over keccak256(data)", async () => {
    const data = bytesToHex(randomBytes(66));
    const { encoded, rx, ry, z } = evmSignature(bytesToHex(thresholdSign(key, hexToBytes(keccak256(data)))));
    expect(await checkLegacy(data, encoded)).toBe(LEGACY_MAGIC);
    expect(await checkLegacy(`${data}00`, encoded)).toBe(INVALID);
    expect(await checkLegacy(data, encodeSig(rx, ry, flip(z)))).toBe(INVALID);
    // The same signature is not valid over the data itself when it is 32 bytes (no confusion between the two).
    expect(await check1271(keccak256(data), encoded)).toBe(MAGIC);
  });

  it('the constructor refuses a point off the curve and an x-coordinate ≥ n', async () => {
    await expect(deploySigner(evm, key.x, flip(key.y))).rejects.toThrow(/reverted/);
    const high = pointFrom(SECP256K1_N);
    expect(high.x).toBeLessThan(P);
    await expect(deploySigner(evm, high.x, high.y)).rejects.toThrow(/reverted/);
  });
});
