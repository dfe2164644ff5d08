import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commit, dealKey, getSuite, type CommitmentHex, type Nonces } from '#crypto';
import { decryptTestJournalText, tempDir, testJournalLocation } from '../testing/key-fixtures.js';
import type { JournalLocation } from './nonce-journal.js';
import { NonceStore, nonceIdOf } from './nonce-store.js';

const REQ_A = '11111111-1111-4111-8111-111111111111';
const REQ_B = '22222222-2222-4222-8222-222222222222';
const dealt = dealKey('secp256k1', 2, 3);
const identifier = getSuite('secp256k1').identifier(1);
const fresh = () => commit('secp256k1', identifier, dealt.secretShares[identifier]!);
let location: JournalLocation;
const journalLines = async () => decryptTestJournalText(location, await readFile(location.path, 'utf8'));
const isZero = (n: Nonces) => n.hiding.every((b) => b === 0) && n.binding.every((b) => b === 0);

describe('NonceStore', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let path: string;
  let store: NonceStore;
  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir.path, 'nonces.jsonl');
    location = await testJournalLocation(path);
    store = await NonceStore.open(location);
  });
  afterEach(async () => {
    await store.close().catch(() => undefined);
    await dir.cleanup();
  });

  it('journals issued before the nonce is live, and never writes a nonce secret', async () => {
    const { nonces, commitment } = fresh();
    const secrets = [Buffer.from(nonces.hiding).toString('hex'), Buffer.from(nonces.binding).toString('hex')];
    await store.issue(REQ_A, commitment, nonces);
    expect(store.status(REQ_A, commitment)).toBe('live');
    expect(await journalLines()).toEqual([
      { event: 'issued', id: nonceIdOf(commitment), requestId: REQ_A, at: expect.any(Number) as unknown },
    ]);
    const raw = readFileSync(path, 'utf8');
    for (const s of secrets) expect(raw).not.toContain(s);
  });

  it('has consumed on disk before it hands the nonces out, and hands them out once', async () => {
    const { nonces, commitment } = fresh();
    await store.issue(REQ_A, commitment, nonces);
    let seenOnDisk: Record<string, unknown>[] = [];
    let handed: Nonces | undefined;
    const result = await store.consume(REQ_A, commitment, 'attempt-1', (n) => {
      seenOnDisk = decryptTestJournalText(location, readFileSync(path, 'utf8'));
      handed = n;
      expect(isZero(n)).toBe(false);
      return 'share';
    });
    expect(result).toBe('share');
    expect(seenOnDisk.at(-1)).toMatchObject({ event: 'consumed', id: nonceIdOf(commitment), attemptId: 'attempt-1' });
    expect(isZero(handed!)).toBe(true);
    expect(store.status(REQ_A, commitment)).toBe('consumed');
    await expect(store.consume(REQ_A, commitment, 'attempt-2', () => 'again')).rejects.toThrow(/not live/);
  });

  it('stays consumed when signing throws (a crash after the journal write)', async () => {
    const { nonces, commitment } = fresh();
    await store.issue(REQ_A, commitment, nonces);
    await expect(
      store.consume(REQ_A, commitment, 'attempt-1', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(isZero(nonces)).toBe(true);
    expect(store.status(REQ_A, commitment)).toBe('consumed');
  });

  it('classifies commitments: live, consumed, altered, unknown', async () => {
    const a = fresh();
    const b = fresh();
    await store.issue(REQ_A, a.commitment, a.nonces);
    await store.issue(REQ_B, b.commitment, b.nonces);
    const other = fresh().commitment;
    expect(store.status(REQ_A, a.commitment)).toBe('live');
    // live, but issued for another request
    expect(store.status(REQ_A, b.commitment)).toBe('altered');
    // one element swapped
    expect(store.status(REQ_A, { ...a.commitment, binding: other.binding })).toBe('altered');
    expect(store.status(REQ_A, other)).toBe('unknown');
    await store.discardRequest(REQ_B, 'closed');
    expect(store.status(REQ_A, b.commitment)).toBe('consumed');
    expect(store.settledState(b.commitment)).toBe('discarded');
  });

  it('discards what a previous run left live, at open (restart)', async () => {
    const a = fresh();
    const b = fresh();
    await store.issue(REQ_A, a.commitment, a.nonces);
    await store.issue(REQ_A, b.commitment, b.nonces);
    await store.consume(REQ_A, a.commitment, 'attempt-1', () => undefined);
    // Simulated crash: the process dies without settling b. A second process opens the journal.
    const restarted = await NonceStore.open(location);
    expect(restarted.liveCount()).toBe(0);
    expect(restarted.status(REQ_A, a.commitment)).toBe('consumed');
    expect(restarted.status(REQ_A, b.commitment)).toBe('consumed');
    expect(restarted.settledState(b.commitment)).toBe('discarded');
    expect((await journalLines()).at(-1)).toMatchObject({ event: 'discarded', id: nonceIdOf(b.commitment), reason: 'restart' });
    await restarted.close();
    // Reopening again finds nothing unsettled.
    const third = await NonceStore.open(location);
    expect((await journalLines()).filter((l) => l.reason === 'restart')).toHaveLength(1);
    await third.close();
  });

  it('caps live nonces per request and in total, discarding the oldest', async () => {
    await store.close();
    store = await NonceStore.open(location, { limits: { perRequest: 2, total: 3 } });
    const made: CommitmentHex[] = [];
    for (let i = 0; i < 3; i++) {
      const c = fresh();
      made.push(c.commitment);
      await store.issue(REQ_A, c.commitment, c.nonces);
    }
    expect(store.liveCount(REQ_A)).toBe(2);
    expect(store.status(REQ_A, made[0]!)).toBe('consumed');
    for (let i = 0; i < 2; i++) {
      const c = fresh();
      made.push(c.commitment);
      await store.issue(REQ_B, c.commitment, c.nonces);
    }
    expect(store.liveCount()).toBe(3);
    expect(store.status(REQ_A, made[1]!)).toBe('consumed');
    expect(store.status(REQ_A, made[2]!)).toBe('live');
    expect((await journalLines()).filter((l) => l.reason === 'limit')).toHaveLength(2);
  });

  it('discards everything at shutdown', async () => {
    const a = fresh();
    await store.issue(REQ_A, a.commitment, a.nonces);
    expect(await store.discardAll('shutdown')).toBe(1);
    expect(isZero(a.nonces)).toBe(true);
    expect(store.liveCount()).toBe(0);
  });
});
