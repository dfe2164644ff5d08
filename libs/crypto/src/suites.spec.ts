import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ed448 } from '@noble/curves/ed448.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  aggregateOrBlame,
  assertShareMatchesPublic,
  assertValidPublicPackage,
  assertValidSignerSet,
  commit,
  CryptoValidationError,
  dealKey,
  getSuite,
  groupPublicKey,
  signShare,
  sortCommitments,
  SUITE_IDS,
  utf8,
  type SuiteId,
} from './index.js';
import { verifyIndependently } from '#verify';

const SIZES: Record<SuiteId, { element: number; scalar: number; signature: number; groupKey: number }> = {
  secp256k1: { element: 33, scalar: 32, signature: 65, groupKey: 33 },
  ed25519: { element: 32, scalar: 32, signature: 64, groupKey: 32 },
  'secp256k1-tr': { element: 33, scalar: 32, signature: 64, groupKey: 32 },
  ristretto255: { element: 32, scalar: 32, signature: 64, groupKey: 32 },
  p256: { element: 33, scalar: 32, signature: 65, groupKey: 33 },
  ed448: { element: 57, scalar: 57, signature: 114, groupKey: 57 },
};
const LITTLE_ENDIAN: readonly SuiteId[] = ['ed25519', 'ristretto255', 'ed448'];

/** A 32-byte message, so libsecp256k1's BIP340 verifier can check secp256k1-tr signatures too. */
const digest = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

function signWith(suite: SuiteId, t: number, n: number, signers: number[], message: Uint8Array) {
  const key = dealKey(suite, t, n);
  const ids = Object.keys(key.secretShares);
  const rounds = signers.map((i) => ids[i]!).map((id) => ({ id, ...commit(suite, id, key.secretShares[id]!) }));
  const list = sortCommitments(suite, rounds.map((r) => r.commitment));
  const shares = Object.fromEntries(
    rounds.map((r) => [r.id, signShare(key.public, r.id, key.secretShares[r.id]!, r.nonces, list, message)]),
  );
  return { key, list, shares };
}

const flipLastByte = (hex: string) => hex.slice(0, -2) + (hex.endsWith('00') ? '01' : '00');
const beHex = (n: bigint, bytes: number) => n.toString(16).padStart(bytes * 2, '0');
const leHex = (n: bigint, bytes: number) => Buffer.from(beHex(n, bytes), 'hex').reverse().toString('hex');

/** An encoding of a valid point with a coordinate at or above the field prime (canonical form: below it). */
function nonCanonicalElement(suite: SuiteId): { canonical: string; nonCanonical: string } {
  const weierstrass = (Point: typeof secp256k1.Point) => {
    const p = Point.Fp.ORDER;
    for (let x = 1n; ; x++) {
      try {
        Point.fromBytes(Buffer.from(`02${beHex(x, 32)}`, 'hex'));
      } catch {
        continue;
      }
      return { canonical: `02${beHex(x, 32)}`, nonCanonical: `02${beHex(x + p, 32)}` };
    }
  };
  const edwards = (Point: typeof ed25519.Point, bytes: number) => {
    const p = Point.Fp.ORDER;
    for (let y = 2n; ; y++) {
      try {
        const pt = Point.fromBytes(Buffer.from(leHex(y, bytes), 'hex'));
        if (!pt.isTorsionFree()) continue;
      } catch {
        continue;
      }
      return { canonical: leHex(y, bytes), nonCanonical: leHex(y + p, bytes) };
    }
  };
  switch (suite) {
    case 'secp256k1':
    case 'secp256k1-tr':
      return weierstrass(secp256k1.Point);
    case 'p256':
      return weierstrass(p256.Point);
    case 'ed25519':
      return edwards(ed25519.Point, 32);
    case 'ed448':
      return edwards(ed448.Point, 57);
    case 'ristretto255':
      // RFC 9496 §A.2: s = p is a non-canonical encoding of zero; its canonical form is the identity.
      return { canonical: '00'.repeat(32), nonCanonical: `ed${'ff'.repeat(30)}7f` };
  }
}

const IDENTITY: Record<SuiteId, string> = {
  secp256k1: '00'.repeat(33),
  'secp256k1-tr': '00'.repeat(33),
  p256: '00'.repeat(33),
  ed25519: `01${'00'.repeat(31)}`,
  ristretto255: '00'.repeat(32),
  ed448: `01${'00'.repeat(56)}`,
};

describe.each(SUITE_IDS)('suite %s', (id) => {
  const suite = getSuite(id);

  it('has the expected sizes and byte order', () => {
    expect({
      element: suite.elementBytes,
      scalar: suite.scalarBytes,
      signature: suite.signatureBytes,
      groupKey: suite.groupPublicKeyBytes,
    }).toEqual(SIZES[id]);
    expect(suite.identifierBytes).toBe(SIZES[id].scalar);
    expect(suite.littleEndian).toBe(LITTLE_ENDIAN.includes(id));
    const key = dealKey(id, 2, 3);
    expect(key.public.commitments.every((c) => c.length === suite.elementBytes * 2)).toBe(true);
    expect(Object.keys(key.secretShares).every((i) => i.length === suite.identifierBytes * 2)).toBe(true);
    expect(Object.values(key.secretShares).every((s) => s.length === suite.scalarBytes * 2)).toBe(true);
    expect(groupPublicKey(key.public)).toHaveLength(suite.groupPublicKeyBytes * 2);
  });

  it.each([
    [2, 3, [2, 0]],
    [3, 5, [4, 1, 2]],
    [3, 5, [0, 1, 2, 3, 4]],
  ] as const)('%i-of-%i: deal, commit, sign, aggregate, verify (signers %j)', async (t, n, signers) => {
    const msg = digest(`pay invoice 42 with ${id}`);
    const { key, list, shares } = signWith(id, t, n, [...signers], msg);
    expect(() => assertValidPublicPackage(key.public)).not.toThrow();
    for (const [identifier, share] of Object.entries(key.secretShares)) {
      expect(() => assertShareMatchesPublic(key.public, identifier, share)).not.toThrow();
    }
    expect(() => assertValidSignerSet(key.public, list)).not.toThrow();
    const result = aggregateOrBlame(key.public, list, msg, shares);
    if (!result.ok) throw new Error(result.message);
    expect(result.signature).toHaveLength(suite.signatureBytes * 2);
    const gpk = groupPublicKey(key.public);
    expect(suite.verify(result.signature, msg, gpk)).toBe(true);
    expect(await verifyIndependently(id, result.signature, msg, gpk)).toBe(true);

    // tampering: another message, a changed signature, another key
    const other = digest('pay invoice 43');
    expect(suite.verify(result.signature, other, gpk)).toBe(false);
    expect(await verifyIndependently(id, result.signature, other, gpk)).toBe(false);
    const flipped = flipLastByte(result.signature);
    expect(suite.verify(flipped, msg, gpk)).toBe(false);
    expect(await verifyIndependently(id, flipped, msg, gpk)).toBe(false);
    const otherKey = groupPublicKey(dealKey(id, 2, 3).public);
    expect(suite.verify(result.signature, msg, otherKey)).toBe(false);
    expect(await verifyIndependently(id, result.signature, msg, otherKey)).toBe(false);

    // malformed input: false, never a throw
    expect(suite.verify('zz', msg, gpk)).toBe(false);
    expect(await verifyIndependently(id, 'zz', msg, gpk)).toBe(false);
    expect(await verifyIndependently(id, result.signature, msg, 'abcd')).toBe(false);
    expect(await verifyIndependently(id, result.signature.slice(2), msg, gpk)).toBe(false);

    // a forged share is named
    const [a, b] = list.map((c) => c.identifier);
    const forged = aggregateOrBlame(key.public, list, msg, { ...shares, [b!]: shares[a!]! });
    expect(forged).toMatchObject({ ok: false, culprits: [{ identifier: b, reason: 'invalid_share' }] });
  });

  it('rejects identity, non-canonical and wrongly-sized elements', () => {
    expect(() => suite.assertElement(IDENTITY[id], 'x')).toThrow(CryptoValidationError);
    const { canonical, nonCanonical } = nonCanonicalElement(id);
    expect(nonCanonical).toHaveLength(suite.elementBytes * 2);
    expect(nonCanonical).not.toBe(canonical);
    expect(() => suite.assertElement(nonCanonical, 'x')).toThrow(CryptoValidationError);
    const key = dealKey(id, 2, 3);
    const good = key.public.commitments[0]!;
    expect(() => suite.assertElement(good, 'x')).not.toThrow();
    expect(() => suite.assertElement(`${good}00`, 'x')).toThrow(/bytes/);
    expect(() => suite.assertElement(good.slice(2), 'x')).toThrow(/bytes/);
    expect(() => suite.assertElement(good.toUpperCase(), 'x')).toThrow(/hex/);
    expect(() => suite.assertScalar('ff'.repeat(suite.scalarBytes), 'x')).toThrow(CryptoValidationError);
  });

  it('validates public packages: a bad element or a swapped verifying share is refused', () => {
    const { public: pkg } = dealKey(id, 3, 5);
    const [id1, id2] = Object.keys(pkg.verifyingShares);
    const swapped = { ...pkg, verifyingShares: { ...pkg.verifyingShares, [id1!]: pkg.verifyingShares[id2!]! } };
    expect(() => assertValidPublicPackage(swapped)).toThrow(/does not match/);
    const identity = { ...pkg, commitments: [IDENTITY[id], ...pkg.commitments.slice(1)] };
    expect(() => assertValidPublicPackage(identity)).toThrow(CryptoValidationError);
  });

  it('checks signer sets: size, duplicates, membership, order', () => {
    const { key, list } = signWith(id, 2, 3, [0, 1], digest('x'));
    expect(() => assertValidSignerSet(key.public, list)).not.toThrow();
    expect(() => assertValidSignerSet(key.public, [list[0]!])).toThrow(/outside/);
    expect(() => assertValidSignerSet(key.public, [list[0]!, list[0]!])).toThrow(/twice/);
    expect(() => assertValidSignerSet(key.public, [list[1]!, list[0]!])).toThrow(/sorted/);
    const outsider = { ...list[1]!, identifier: suite.identifier(9) };
    expect(() => assertValidSignerSet(key.public, [list[0]!, outsider])).toThrow(/not a participant/);
    const equal = { ...list[1]!, binding: list[1]!.hiding };
    expect(() => assertValidSignerSet(key.public, [list[0]!, equal])).toThrow(/equal/);
  });

  it('orders identifiers by scalar value', () => {
    const ids = [1, 256, 2].map((n) => suite.identifier(n));
    const sorted = sortCommitments(id, ids.map((identifier) => ({ identifier })));
    expect(sorted.map((c) => c.identifier)).toEqual([ids[0], ids[2], ids[1]]);
    expect(ids.map((i) => suite.identifierValue(i))).toEqual([1n, 256n, 2n]);
    if (suite.littleEndian) {
      // As strings "0001..." (256) < "0100..." (1) < "0200..." (2): string order is wrong here.
      expect([...ids].sort()).toEqual([ids[1], ids[0], ids[2]]);
    } else {
      expect([...ids].sort()).toEqual([ids[0], ids[2], ids[1]]);
    }
  });
});

describe('secp256k1-tr (BIP340 / Taproot)', () => {
  it('exposes the x-only group key and signs BIP340 signatures that libsecp256k1 and noble schnorr accept', async () => {
    const { schnorr } = await import('@noble/curves/secp256k1.js');
    // Deal until both parities of the dealer's (untweaked) group element have been seen.
    const parities = new Set<string>();
    for (let i = 0; i < 40 && parities.size < 2; i++) {
      const msg = digest(`taproot ${i}`);
      const { key, list, shares } = signWith('secp256k1-tr', 2, 3, [0, 1], msg);
      const element = key.public.commitments[0]!;
      parities.add(element.slice(0, 2));
      const xOnly = groupPublicKey(key.public);
      expect(xOnly).toBe(element.slice(2));
      const r = aggregateOrBlame(key.public, list, msg, shares);
      if (!r.ok) throw new Error(r.message);
      expect(await verifyIndependently('secp256k1-tr', r.signature, msg, xOnly)).toBe(true);
      expect(schnorr.verify(Buffer.from(r.signature, 'hex'), msg, Buffer.from(xOnly, 'hex'))).toBe(true);
      // The standard encoding is x-only: the 33-byte element is not a valid group key for verify.
      expect(getSuite('secp256k1-tr').verify(r.signature, msg, element)).toBe(false);
    }
    expect([...parities].sort()).toEqual(['02', '03']);
  });

  it('independent BIP340 verification needs 32-byte messages', async () => {
    const msg = utf8('not a digest');
    const { key, list, shares } = signWith('secp256k1-tr', 2, 3, [0, 1], msg);
    const r = aggregateOrBlame(key.public, list, msg, shares);
    if (!r.ok) throw new Error(r.message);
    expect(getSuite('secp256k1-tr').verify(r.signature, msg, groupPublicKey(key.public))).toBe(true);
    expect(await verifyIndependently('secp256k1-tr', r.signature, msg, groupPublicKey(key.public))).toBe(false);
  });
});
