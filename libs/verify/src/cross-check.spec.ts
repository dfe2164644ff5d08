import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { aggregateOrBlame, commit, dealKey, groupPublicKey, signShare, sortCommitments, SUITE_IDS, type SuiteId } from '#crypto';
import { ready, verifyIndependently, verifyIndependentlySync } from './index.js';
import { LAYOUTS, expectTamperingRejected } from './verify-test-support.js';

/**
 * Signatures made by our own FROST stack (#crypto, on noble) verify with the independent verifiers, and
 * tampered ones do not.
 */


/** A 32-byte message, so that BIP340 (secp256k1-tr) can be checked too. */
const digest = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

/** deal (t-of-n), commit, sign and aggregate with the signers at the given 0-based indexes. */
function signWithFrost(suite: SuiteId, t: number, n: number, signers: readonly number[], message: Uint8Array) {
  const key = dealKey(suite, t, n);
  const ids = Object.keys(key.secretShares);
  const rounds = signers.map((i) => ids[i]!).map((id) => ({ id, ...commit(suite, id, key.secretShares[id]!) }));
  const list = sortCommitments(suite, rounds.map((r) => r.commitment));
  const shares = Object.fromEntries(rounds.map((r) => [r.id, signShare(key.public, r.id, key.secretShares[r.id]!, r.nonces, list, message)]));
  const result = aggregateOrBlame(key.public, list, message, shares);
  if (!result.ok) throw new Error(result.message);
  return { signature: result.signature, groupPublicKey: groupPublicKey(key.public) };
}

beforeAll(() => ready());

describe.each(SUITE_IDS)('%s: signatures of #crypto verify independently', (suite) => {
  it.each([
    [2, 3, [0, 2]],
    [3, 5, [4, 1, 2]],
  ] as const)('%i-of-%i, signers %j', async (t, n, signers) => {
    const message = digest(`cross-check ${suite} ${t}-of-${n}`);
    const { signature, groupPublicKey: key } = signWithFrost(suite, t, n, signers, message);
    expect(await verifyIndependently(suite, signature, message, key)).toBe(true);
    const other = signWithFrost(suite, 2, 2, [0, 1], message).groupPublicKey;
    expectTamperingRejected((s, m, k) => verifyIndependentlySync(suite, s, m, k), LAYOUTS[suite], signature, message, key, other);
  });

  it.skipIf(suite === 'secp256k1-tr')('a message that is not a digest', async () => {
    const message = new TextEncoder().encode(`pay invoice 42 with ${suite}`);
    const { signature, groupPublicKey: key } = signWithFrost(suite, 2, 3, [1, 2], message);
    expect(await verifyIndependently(suite, signature, message, key)).toBe(true);
    expect(await verifyIndependently(suite, signature, new TextEncoder().encode(`pay invoice 43 with ${suite}`), key)).toBe(false);
  });
});
