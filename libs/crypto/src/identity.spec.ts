import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8 } from './encoding.js';
import { generateIdentity, identitySign, identityVerify } from './identity.js';

/** RFC 8032 §7.1, TEST 1 (the empty message). */
const VECTOR = {
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (bytes: Uint8Array): bigint => bytes.reduce((acc, b, i) => acc + (BigInt(b) << (8n * BigInt(i))), 0n);
const toLe = (n: bigint): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> (8n * BigInt(i))) & 0xffn));

describe('identityVerify (Ed25519, strict RFC 8032, OpenSSL)', () => {
  it('accepts the RFC 8032 test vector and what noble signs', () => {
    expect(identityVerify(VECTOR.publicKey, new Uint8Array(), VECTOR.signature)).toBe(true);
    expect(identityVerify(VECTOR.publicKey.toUpperCase(), new Uint8Array(), VECTOR.signature.toUpperCase())).toBe(true);
    for (let i = 0; i < 20; i++) {
      const id = generateIdentity();
      const msg = utf8(`roundtable/decision/v1\n${i}`);
      expect(identityVerify(id.publicKey, msg, identitySign(id.secretKey, msg))).toBe(true);
    }
  });

  it('refuses a changed message, another key, a flipped bit, a non-canonical S, and malformed input; agrees with noble strict', () => {
    const id = generateIdentity();
    const other = generateIdentity();
    const msg = utf8('pay 100 to alice');
    const sig = identitySign(id.secretKey, msg);
    expect(identityVerify(id.publicKey, utf8('pay 100 to mallory'), sig)).toBe(false);
    expect(identityVerify(other.publicKey, msg, sig)).toBe(false);
    const flipped = hexToBytes(sig);
    flipped[5]! ^= 1;
    expect(identityVerify(id.publicKey, msg, bytesToHex(flipped))).toBe(false);
    // S + L verifies the same equation but is not the canonical encoding: strict verification refuses it.
    const raw = hexToBytes(sig);
    const sPlusL = toLe(le(raw.slice(32)) + L);
    const malleated = bytesToHex(Uint8Array.from([...raw.slice(0, 32), ...sPlusL]));
    expect(identityVerify(id.publicKey, msg, malleated)).toBe(false);
    expect(ed25519.verify(hexToBytes(malleated), msg, hexToBytes(id.publicKey), { zip215: false })).toBe(false);
    for (const [pk, s] of [
      ['', sig],
      [id.publicKey, ''],
      [id.publicKey.slice(2), sig],
      [id.publicKey, `${sig}00`],
      ['zz'.repeat(32), sig],
      ['00'.repeat(32), sig],
    ] as const) {
      expect(identityVerify(pk, msg, s)).toBe(false);
    }
  });
});
