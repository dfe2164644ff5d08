import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import elliptic from 'elliptic';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ready,
  verifyBip340,
  verifyEd25519,
  verifyEd448,
  verifyIndependently,
  verifyIndependentlySync,
  verifyP256,
  verifyRistretto255,
  verifySecp256k1,
  type SuiteId,
} from './index.js';
import { challenge as ristrettoChallenge, isCanonicalScalar, loadLibsodium, ristretto255Equation, type Libsodium } from './ristretto255.js';
import { LAYOUTS, expectTamperingRejected, flipBit, type Verifier } from './verify-test-support.js';
import { decodeElement, decodeScalar, weierstrassSuite } from './weierstrass.js';

/** Hex as the RFC prints it, wrapped over lines: whitespace is dropped. */
const rfc = (parts: TemplateStringsArray): string => parts.raw.join('').replace(/\s+/g, '');
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

/*
 * RFC 9591 Appendix E: the group public key, the message and the final signature `sig` of each suite's
 * vector, copied from the RFC text (line breaks as printed there).
 */
const RFC9591 = {
  // E.1. FROST(Ed25519, SHA-512)
  ed25519: {
    groupPublicKey: rfc`15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040
   d380fb9738673`,
    message: '74657374',
    sig: rfc`36282629c383bb820a88b71cae937d41f2f2adfcc3d02e55507e2fb9e2dd3cbe
   bd9d2b0844e49ae0f3fa935161e1419aab7b47d21a37ebeae1f17d4987b3160b`,
  },
  // E.2. FROST(Ed448, SHAKE256)
  ed448: {
    groupPublicKey: rfc`3832f82fda00ff5365b0376df705675b63d2a93c24c6e81d408
   01ba265632be10f443f95968fadb70d10786827f30dc001c8d0f9b7c1d1b000`,
    message: '74657374',
    sig: rfc`cd642cba59c449dad8e896a78a60e8edfcbd9040df524370891ff8077d47ce72
   1d683874483795f0d85efcbd642c4510614328605a19c6ed806ffb773b6956419537c
   dfdb2b2a51948733de192dcc4b82dc31580a536db6d435e0cb3ce322fbcf9ec23362d
   da27092c08767e607bf2093600`,
  },
  // E.3. FROST(ristretto255, SHA-512)
  ristretto255: {
    groupPublicKey: rfc`e2a62f39eede11269e3bd5a7d97554f5ca384f9f6d3dd9c3c0d
   05083c7254f57`,
    message: '74657374',
    sig: rfc`fc45655fbc66bbffad654ea4ce5fdae253a49a64ace25d9adb62010dd9fb2555
   2164141787162e5b4cab915b4aa45d94655dbb9ed7c378a53b980a0be220a802`,
  },
  // E.4. FROST(P-256, SHA-256)
  p256: {
    groupPublicKey: rfc`023a309ad94e9fe8a7ba45dfc58f38bf091959d3c99cfbd02b4
   dc00585ec45ab70`,
    message: '74657374',
    sig: rfc`026d8d434874f87bdb7bc0dfd239b2c00639044f9dcb195e9a04426f70bfa4b7
   0d9620acac6767e8e3e3036815fca4eb3a3caa69992b902bcd3352fc34f1ac192f`,
  },
  // E.5. FROST(secp256k1, SHA-256)
  secp256k1: {
    groupPublicKey: rfc`02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f646
   63b0eae87d87b4f`,
    message: '74657374',
    sig: rfc`0205b6d04d3774c8929413e3c76024d54149c372d57aae62574ed74319b5ea14
   d0c65dde8492a7471437e6c2fe3da49b90d23f642b5c6dbe7e36089f096dd97324`,
  },
} as const;
type RfcSuite = keyof typeof RFC9591;

/**
 * The official BIP-340 test vectors (bitcoin/bips bip-0340/test-vectors.csv, rows 0-14: public key, message,
 * signature, verification result, comment). Later revisions add rows signing messages of other lengths than
 * 32 bytes, which tiny-secp256k1 does not take.
 */
const BIP340: readonly { index: number; publicKey: string; message: string; signature: string; valid: boolean; comment: string }[] = [
  [0, 'F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9', '0000000000000000000000000000000000000000000000000000000000000000', 'E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0', true, ''],
  [1, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A', true, ''],
  [2, 'DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8', '7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C', '5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1BAB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7', true, ''],
  [3, '25D1DFF95105F5253C4022F628A996AD3A0D95FBF21D468A1B33F8C160D8F517', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF', '7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3', true, 'test fails if msg is reduced modulo p or n'],
  [4, 'D69C3509BB99E412E68B0FE8544E72837DFA30746D8BE2AA65975F29D22DC7B9', '4DF3C3F68FCC83B27E9D42C90431A72499F17875C81A599B566C9889B9696703', '00000000000000000000003B78CE563F89A0ED9414F5AA28AD0D96D6795F9C6376AFB1548AF603B3EB45C9F8207DEE1060CB71C04E80F593060B07D28308D7F4', true, ''],
  [5, 'EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E17776969E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B', false, 'public key not on the curve'],
  [6, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', 'FFF97BD5755EEEA420453A14355235D382F6472F8568A18B2F057A14602975563CC27944640AC607CD107AE10923D9EF7A73C643E166BE5EBEAFA34B1AC553E2', false, 'has_even_y(R) is false'],
  [7, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '1FA62E331EDBC21C394792D2AB1100A7B432B013DF3F6FF4F99FCB33E0E1515F28890B3EDB6E7189B630448B515CE4F8622A954CFE545735AAEA5134FCCDB2BD', false, 'negated message'],
  [8, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769961764B3AA9B2FFCB6EF947B6887A226E8D7C93E00C5ED0C1834FF0D0C2E6DA6', false, 'negated s value'],
  [9, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '0000000000000000000000000000000000000000000000000000000000000000123DDA8328AF9C23A94C1FEECFD123BA4FB73476F0D594DCB65C6425BD186051', false, 'sG - eP is infinite. Test fails in single verification if has_even_y(inf) is defined as true and x(inf) as 0'],
  [10, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '00000000000000000000000000000000000000000000000000000000000000017615FBAF5AE28864013C099742DEADB4DBA87F11AC6754F93780D5A1837CF197', false, 'sG - eP is infinite. Test fails in single verification if has_even_y(inf) is defined as true and x(inf) as 1'],
  [11, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '4A298DACAE57395A15D0795DDBFD1DCB564DA82B0F269BC70A74F8220429BA1D69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B', false, 'sig[0:32] is not an X coordinate on the curve'],
  [12, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B', false, 'sig[0:32] is equal to field size'],
  [13, 'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141', false, 'sig[32:64] is equal to curve order'],
  [14, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30', '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89', '6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E17776969E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B', false, 'public key is not a valid X coordinate because it exceeds the field size'],
].map(([index, publicKey, message, signature, valid, comment]) => ({
  index: index as number,
  publicKey: (publicKey as string).toLowerCase(),
  message: (message as string).toLowerCase(),
  signature: (signature as string).toLowerCase(),
  valid: valid as boolean,
  comment: comment as string,
}));

const VERIFIERS: Record<SuiteId, Verifier> = {
  ed25519: verifyEd25519,
  ed448: verifyEd448,
  ristretto255: verifyRistretto255,
  p256: verifyP256,
  secp256k1: verifySecp256k1,
  'secp256k1-tr': verifyBip340,
};

let sodium: Libsodium;
beforeAll(async () => {
  await ready();
  sodium = (await loadLibsodium())!;
});

/** Another valid public key of the suite, from a library other than noble. */
function otherPublicKey(suite: SuiteId): string {
  switch (suite) {
    case 'ed25519':
    case 'ed448': {
      const spki = generateKeyPairSync(suite as never).publicKey.export({ format: 'der', type: 'spki' });
      return spki.subarray(suite === 'ed25519' ? -32 : -57).toString('hex');
    }
    case 'p256':
    case 'secp256k1':
      return new elliptic.ec(suite).genKeyPair().getPublic(true, 'hex');
    case 'ristretto255':
      return Buffer.from(sodium.crypto_scalarmult_ristretto255_base(sodium.crypto_core_ristretto255_scalar_random())).toString('hex');
    case 'secp256k1-tr':
      return BIP340[1]!.publicKey;
  }
}

/** a + b for little-endian byte strings of equal length (no overflow in the uses below). */
function addLittleEndian(a: Uint8Array, bHex: string): Uint8Array {
  const b = Buffer.from(bHex, 'hex').reverse();
  const out = new Uint8Array(a.length);
  let carry = 0;
  for (let i = 0; i < a.length; i++) {
    const sum = a[i]! + (b[i] ?? 0) + carry;
    out[i] = sum & 0xff;
    carry = sum >> 8;
  }
  expect(carry).toBe(0);
  return out;
}
const ED25519_L = '1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed';
const ED448_L = '3fffffffffffffffffffffffffffffffffffffffffffffffffffffff7cca23e9c44edb49aed63690216cc2728dc58f552378c292ab5844f3';

describe('RFC 9591 Appendix E test vectors: the final signature verifies under the group public key', () => {
  it.each(Object.keys(RFC9591) as RfcSuite[])('%s', async (suite) => {
    const v = RFC9591[suite];
    expect(v.sig).toHaveLength((LAYOUTS[suite].rBytes + LAYOUTS[suite].zBytes) * 2);
    expect(VERIFIERS[suite](v.sig, bytes(v.message), v.groupPublicKey)).toBe(true);
    expect(await verifyIndependently(suite, v.sig, bytes(v.message), v.groupPublicKey)).toBe(true);
    expect(verifyIndependentlySync(suite, v.sig, bytes(v.message), v.groupPublicKey)).toBe(true);
  });
});

describe('BIP-340 test vectors (libsecp256k1 through tiny-secp256k1)', () => {
  it.each(BIP340)('row $index: $valid $comment', async (row) => {
    expect(verifyBip340(row.signature, bytes(row.message), row.publicKey)).toBe(row.valid);
    expect(await verifyIndependently('secp256k1-tr', row.signature, bytes(row.message), row.publicKey)).toBe(row.valid);
  });

  it('takes 32-byte messages only', () => {
    const row = BIP340[1]!;
    const message = bytes(row.message);
    expect(verifyBip340(row.signature, message, row.publicKey)).toBe(true);
    expect(verifyBip340(row.signature, message.subarray(0, 31), row.publicKey)).toBe(false);
    expect(verifyBip340(row.signature, new Uint8Array([...message, 0]), row.publicKey)).toBe(false);
  });
});

describe('tampering and malformed input are rejected, without a throw', () => {
  const cases: [SuiteId, string, string, string][] = [
    ...(Object.keys(RFC9591) as RfcSuite[]).map((s): [SuiteId, string, string, string] => [s, RFC9591[s].sig, RFC9591[s].message, RFC9591[s].groupPublicKey]),
    ['secp256k1-tr', BIP340[0]!.signature, BIP340[0]!.message, BIP340[0]!.publicKey],
  ];
  it.each(cases)('%s', async (suite, sig, message, key) => {
    const other = otherPublicKey(suite);
    expectTamperingRejected(VERIFIERS[suite], LAYOUTS[suite], sig, bytes(message), key, other);
    expectTamperingRejected((s, m, k) => verifyIndependentlySync(suite, s, m, k), LAYOUTS[suite], sig, bytes(message), key, other);
    expect(await verifyIndependently(suite, flipBit(sig, 1), bytes(message), key)).toBe(false);
    expect(await verifyIndependently(suite, sig.slice(2), bytes(message), key)).toBe(false);
  });

  it('an unknown suite is false', async () => {
    const v = RFC9591.secp256k1;
    expect(await verifyIndependently('secp256k1-xyz' as SuiteId, v.sig, bytes(v.message), v.groupPublicKey)).toBe(false);
    expect(verifyIndependentlySync('secp256k1-xyz' as SuiteId, v.sig, bytes(v.message), v.groupPublicKey)).toBe(false);
  });
});

describe.each(['secp256k1', 'p256'] as const)('%s: elements and scalars (elliptic)', (name) => {
  const suite = weierstrassSuite(name);
  const v = RFC9591[name];
  const verify = VERIFIERS[name];
  const hex32 = (n: bigint) => n.toString(16).padStart(64, '0');

  it('rejects an x coordinate at or above the field prime, which elliptic alone would reduce', () => {
    let x = 1n;
    while (decodeElement(suite, bytes(`02${hex32(x)}`)) === null) x++;
    const alias = bytes(`02${hex32(x + suite.p)}`);
    expect(x + suite.p < 2n ** 256n).toBe(true);
    expect(() => suite.curve.decodePoint(Buffer.from(alias))).not.toThrow();
    expect(decodeElement(suite, alias)).toBeNull();
    expect(decodeElement(suite, bytes(`02${hex32(suite.p)}`))).toBeNull();
  });

  it('rejects points off the curve, other prefixes and the identity', () => {
    let x = 1n;
    while (decodeElement(suite, bytes(`02${hex32(x)}`)) !== null) x++;
    const offCurve = `02${hex32(x)}`;
    expect(decodeElement(suite, bytes(offCurve))).toBeNull();
    expect(verify(offCurve + v.sig.slice(66), bytes(v.message), v.groupPublicKey)).toBe(false);
    expect(verify(v.sig, bytes(v.message), offCurve)).toBe(false);
    for (const prefix of ['00', '01', '04', '05', '06', '07']) {
      expect(decodeElement(suite, bytes(prefix + v.groupPublicKey.slice(2)))).toBeNull();
      expect(verify(v.sig, bytes(v.message), prefix + v.groupPublicKey.slice(2))).toBe(false);
    }
    expect(verify(v.sig, bytes(v.message), '00'.repeat(33))).toBe(false);
    // -PK and -R are valid points, but not the right ones.
    const negate = (hex: string) => (hex.startsWith('02') ? '03' : '02') + hex.slice(2);
    expect(verify(v.sig, bytes(v.message), negate(v.groupPublicKey))).toBe(false);
    expect(verify(negate(v.sig.slice(0, 66)) + v.sig.slice(66), bytes(v.message), v.groupPublicKey)).toBe(false);
  });

  it('rejects z at or above the group order', () => {
    expect(decodeScalar(suite, bytes(hex32(suite.n - 1n)))).toBe(suite.n - 1n);
    expect(decodeScalar(suite, bytes(hex32(suite.n)))).toBeNull();
    expect(decodeScalar(suite, bytes(hex32(2n ** 256n - 1n)))).toBeNull();
    expect(decodeScalar(suite, bytes('00'.repeat(31)))).toBeNull();
    expect(verify(v.sig.slice(0, 66) + hex32(suite.n), bytes(v.message), v.groupPublicKey)).toBe(false);
    expect(verify(v.sig.slice(0, 66) + hex32(0n), bytes(v.message), v.groupPublicKey)).toBe(false);
  });
});

describe('ristretto255 (libsodium): encodings and edge cases of the equation', () => {
  const v = RFC9591.ristretto255;
  const R = () => bytes(v.sig.slice(0, 64));
  const z = () => bytes(v.sig.slice(64));
  const PK = () => bytes(v.groupPublicKey);
  const message = bytes(v.message);
  const L = '1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed';
  const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

  it('rejects z + L, which libsodium would multiply as z', () => {
    const zPlusL = addLittleEndian(z(), L);
    const c = ristrettoChallenge(sodium, new Uint8Array([...R(), ...PK(), ...message]));
    expect(ristretto255Equation(sodium, R(), zPlusL, PK(), c)).toBe(true);
    expect(isCanonicalScalar(sodium, zPlusL)).toBe(false);
    expect(verifyRistretto255(v.sig.slice(0, 64) + toHex(zPlusL), message, v.groupPublicKey)).toBe(false);
  });

  it('rejects the identity as the group key (R = z*B would otherwise verify for any message)', () => {
    const k = sodium.crypto_core_ristretto255_scalar_random();
    const forgedR = sodium.crypto_scalarmult_ristretto255_base(k);
    const identity = new Uint8Array(32);
    expect(sodium.crypto_core_ristretto255_is_valid_point(identity)).toBe(true);
    expect(ristretto255Equation(sodium, forgedR, k, identity, sodium.crypto_core_ristretto255_scalar_random())).toBe(true);
    expect(verifyRistretto255(toHex(forgedR) + toHex(k), message, toHex(identity))).toBe(false);
  });

  it('rejects the identity as R (a signature that satisfies the equation)', () => {
    const sk = sodium.crypto_core_ristretto255_scalar_random();
    const pk = sodium.crypto_scalarmult_ristretto255_base(sk);
    const identity = new Uint8Array(32);
    const c = ristrettoChallenge(sodium, new Uint8Array([...identity, ...pk, ...message]));
    const forgedZ = sodium.crypto_core_ristretto255_scalar_mul(c, sk);
    expect(ristretto255Equation(sodium, identity, forgedZ, pk, c)).toBe(true);
    expect(verifyRistretto255(toHex(identity) + toHex(forgedZ), message, toHex(pk))).toBe(false);
  });

  it('rejects non-canonical encodings', () => {
    const p = 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f';
    expect(verifyRistretto255(p + v.sig.slice(64), message, v.groupPublicKey)).toBe(false);
    expect(verifyRistretto255(v.sig, message, p)).toBe(false);
    expect(verifyRistretto255(v.sig, message, flipBit(v.groupPublicKey, 31, 7))).toBe(false);
  });

  it('handles c = 0, z = 0 and an identity right-hand side without a throw', () => {
    const zero = new Uint8Array(32);
    const k = sodium.crypto_core_ristretto255_scalar_random();
    const kB = sodium.crypto_scalarmult_ristretto255_base(k);
    // c = 0: z*B == R
    expect(ristretto255Equation(sodium, kB, k, PK(), zero)).toBe(true);
    expect(ristretto255Equation(sodium, R(), k, PK(), zero)).toBe(false);
    // z = 0: accepted iff R + c*PK is the identity, i.e. R = -(c*PK)
    const c = sodium.crypto_core_ristretto255_scalar_random();
    const minusCPK = sodium.crypto_scalarmult_ristretto255(sodium.crypto_core_ristretto255_scalar_negate(c), PK());
    expect(ristretto255Equation(sodium, minusCPK, zero, PK(), c)).toBe(true);
    expect(ristretto255Equation(sodium, R(), zero, PK(), c)).toBe(false);
    expect(ristretto255Equation(sodium, R(), zero, PK(), zero)).toBe(false);
    // and through the verifier: z = 0 is a canonical scalar, the equation simply fails
    expect(verifyRistretto255(v.sig.slice(0, 64) + toHex(zero), message, v.groupPublicKey)).toBe(false);
  });
});

describe('Ed25519 and Ed448 (OpenSSL): non-canonical z', () => {
  it.each([
    ['ed25519', ED25519_L],
    ['ed448', ED448_L],
  ] as const)('%s rejects z + L', (suite, order) => {
    const v = RFC9591[suite];
    const n = LAYOUTS[suite].rBytes;
    const zPlusL = addLittleEndian(bytes(v.sig.slice(n * 2)), order);
    expect(VERIFIERS[suite](v.sig.slice(0, n * 2) + Buffer.from(zPlusL).toString('hex'), bytes(v.message), v.groupPublicKey)).toBe(false);
  });
});

describe('#verify shares no code with noble', () => {
  it('imports nothing from @noble/* or #crypto', () => {
    const dir = new URL('.', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
    expect(sources).toContain('index.ts');
    for (const file of sources) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      expect(text, file).not.toMatch(/from\s+['"](@noble\/|#crypto)|import\(\s*['"](@noble\/|#crypto)|require\(\s*['"](@noble\/|#crypto)/);
    }
  });
});
