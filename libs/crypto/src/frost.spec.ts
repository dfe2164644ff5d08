import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aggregateOrBlame,
  assertValidPublicPackage,
  assertValidSignerSet,
  canonicalJson,
  commit,
  CryptoValidationError,
  dealKey,
  getSuite,
  hexToBytes,
  signShare,
  sortCommitments,
  utf8,
  type SuiteId,
} from './index.js';

function signWith(suite: SuiteId, t: number, n: number, signers: number[], message: Uint8Array) {
  const key = dealKey(suite, t, n);
  const ids = Object.keys(key.secretShares);
  const chosen = signers.map((i) => ids[i]!);
  const rounds = chosen.map((id) => ({ id, ...commit(suite, id, key.secretShares[id]!) }));
  const list = sortCommitments(suite, rounds.map((r) => r.commitment));
  const shares = Object.fromEntries(
    rounds.map((r) => [r.id, signShare(key.public, r.id, key.secretShares[r.id]!, r.nonces, list, message)]),
  );
  return { key, list, shares, rounds };
}

describe('FROST over noble', () => {
  it.each(['secp256k1', 'ed25519'] as const)('%s: 2-of-3 signs and the signature verifies', (suite) => {
    const msg = utf8('pay 1 BTC to treasury');
    const { key, list, shares } = signWith(suite, 2, 3, [2, 0], msg);
    const result = aggregateOrBlame(key.public, list, msg, shares);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(getSuite(suite).verify(result.signature, msg, key.public.commitments[0]!)).toBe(true);
    expect(getSuite(suite).verify(result.signature, utf8('other'), key.public.commitments[0]!)).toBe(false);
  });

  it('ed25519 signatures verify with an independent implementation (OpenSSL through node:crypto)', () => {
    const msg = utf8('independent check');
    const { key, list, shares } = signWith('ed25519', 2, 3, [0, 1], msg);
    const result = aggregateOrBlame(key.public, list, msg, shares);
    if (!result.ok) throw new Error(result.message);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.public.commitments[0]!, 'hex')]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(nodeVerify(null, msg, pub, Buffer.from(result.signature, 'hex'))).toBe(true);
    expect(nodeVerify(null, utf8('tampered'), pub, Buffer.from(result.signature, 'hex'))).toBe(false);
  });

  it('sorts ed25519 identifiers by scalar value, not by string (little-endian encoding)', () => {
    const suite = getSuite('ed25519');
    const ids = [1, 256, 2].map((n) => suite.identifier(n));
    // As strings "0001..." (256) < "0100..." (1) < "0200..." (2): wrong order.
    expect([...ids].sort()).toEqual([ids[1], ids[0], ids[2]]);
    const sorted = sortCommitments('ed25519', ids.map((identifier) => ({ identifier })));
    expect(sorted.map((c) => c.identifier)).toEqual([ids[0], ids[2], ids[1]]);
  });

  it('names the culprit of an invalid share and of a malformed share', () => {
    const msg = utf8('blame');
    const { key, list, shares } = signWith('secp256k1', 2, 3, [0, 1], msg);
    const [a, b] = list.map((c) => c.identifier);
    const forged = { ...shares, [b!]: shares[a!]! };
    const bad = aggregateOrBlame(key.public, list, msg, forged);
    expect(bad).toMatchObject({ ok: false, culprits: [{ identifier: b, reason: 'invalid_share' }] });
    const malformed = aggregateOrBlame(key.public, list, msg, { ...shares, [a!]: 'ff'.repeat(32) });
    expect(malformed).toMatchObject({ ok: false, culprits: [{ identifier: a, reason: 'malformed_share' }] });
  });

  it('rejects identity, off-curve and non-canonical elements', () => {
    const s = getSuite('secp256k1');
    expect(() => s.assertElement('00'.repeat(33), 'x')).toThrow(CryptoValidationError);
    expect(() => s.assertElement('02' + 'ff'.repeat(32), 'x')).toThrow(CryptoValidationError);
    const e = getSuite('ed25519');
    expect(() => e.assertElement('01' + '00'.repeat(31), 'x')).toThrow(/identity/);
    // A small-order point (order 8) is not in the prime-order subgroup.
    expect(() => e.assertElement('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'x')).toThrow(CryptoValidationError);
  });

  it('checks signer sets: size, duplicates, membership, order', () => {
    const msg = utf8('x');
    const { key, list } = signWith('ed25519', 2, 3, [0, 1], msg);
    expect(() => assertValidSignerSet(key.public, list)).not.toThrow();
    expect(() => assertValidSignerSet(key.public, [list[0]!])).toThrow(/outside/);
    expect(() => assertValidSignerSet(key.public, [list[0]!, list[0]!])).toThrow(/twice/);
    expect(() => assertValidSignerSet(key.public, [list[1]!, list[0]!])).toThrow(/sorted/);
    const outsider = { ...list[1]!, identifier: getSuite('ed25519').identifier(9) };
    expect(() => assertValidSignerSet(key.public, [list[0]!, outsider])).toThrow(/not a participant/);
  });

  it('validates a public package, including verifying shares against the VSS commitment', () => {
    const { public: pkg } = dealKey('secp256k1', 2, 3);
    expect(() => assertValidPublicPackage(pkg)).not.toThrow();
    const [id1, id2] = Object.keys(pkg.verifyingShares);
    const swapped = { ...pkg, verifyingShares: { ...pkg.verifyingShares, [id1!]: pkg.verifyingShares[id2!]! } };
    expect(() => assertValidPublicPackage(swapped)).toThrow(/does not match/);
  });

  it('noble refuses to sign twice with the same nonce object', () => {
    const suite: SuiteId = 'secp256k1';
    const key = dealKey(suite, 2, 2);
    const [a, b] = Object.keys(key.secretShares);
    const ra = commit(suite, a!, key.secretShares[a!]!);
    const rb = commit(suite, b!, key.secretShares[b!]!);
    const list = sortCommitments(suite, [ra.commitment, rb.commitment]);
    signShare(key.public, a!, key.secretShares[a!]!, ra.nonces, list, hexToBytes('01'));
    expect(() => signShare(key.public, a!, key.secretShares[a!]!, ra.nonces, list, hexToBytes('02'))).toThrow();
  });

  it('canonical JSON sorts keys and rejects non-integers', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 's'], c: undefined })).toBe('{"a":[true,null,"s"],"b":1}');
    expect(() => canonicalJson({ x: 1.5 })).toThrow();
  });
});

describe('reference verifiers', () => {
  it('accept what noble produced and reject tampering, for both suites', async () => {
    const { verifyIndependently } = await import('#verify');
    for (const suite of ['secp256k1', 'ed25519'] as const) {
      const msg = utf8(`reference ${suite}`);
      const { key, list, shares } = signWith(suite, 2, 3, [0, 2], msg);
      const r = aggregateOrBlame(key.public, list, msg, shares);
      if (!r.ok) throw new Error(r.message);
      const pk = key.public.commitments[0]!;
      expect(await verifyIndependently(suite, r.signature, msg, pk)).toBe(true);
      expect(await verifyIndependently(suite, r.signature, utf8('other'), pk)).toBe(false);
      const flipped = r.signature.slice(0, -2) + (r.signature.endsWith('00') ? '01' : '00');
      expect(await verifyIndependently(suite, flipped, msg, pk)).toBe(false);
    }
  });
});

describe('identity keys', () => {
  it('accept a generated key and refuse small-order, non-canonical and malformed ones', async () => {
    const { generateIdentity, isValidIdentityKey, identitySign, identityVerify } = await import('./identity.js');
    const id = generateIdentity();
    expect(isValidIdentityKey(id.publicKey)).toBe(true);
    expect(isValidIdentityKey('00'.repeat(32))).toBe(false); // order 4
    expect(isValidIdentityKey('01' + '00'.repeat(31))).toBe(false); // identity
    expect(isValidIdentityKey('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')).toBe(false); // order 8
    expect(isValidIdentityKey('zz')).toBe(false);
    const msg = utf8('challenge');
    expect(identityVerify(id.publicKey, msg, identitySign(id.secretKey, msg))).toBe(true);
    expect(identityVerify(id.publicKey, utf8('other'), identitySign(id.secretKey, msg))).toBe(false);
  });
});
