import { describe, expect, it } from 'vitest';
import { aKey, aNode, anAttempt, aRequest } from '../../../persistence/src/testing/fixtures.js';
import type { Repositories } from '../ports.js';
import type { AttemptRecord, KeyRecord, SigningRequestRecord } from '../records.js';
import { listRequestViews, loadRequestView, messageTextOf } from './request-views.js';

/** In-memory repositories that count every call, to see how many reads a view costs. */
function fakeRepositories(requests: SigningRequestRecord[], attempts: AttemptRecord[], keys: KeyRecord[]) {
  const calls: string[] = [];
  const track =
    <A extends unknown[], R>(name: string, f: (...args: A) => R) =>
    (...args: A): Promise<R> => {
      calls.push(name);
      return Promise.resolve(f(...args));
    };
  const repos = {
    requests: {
      findById: track('requests.findById', (id: string) => requests.find((r) => r.id === id) ?? null),
      list: track('requests.list', (f: { limit: number; offset: number }) => requests.slice(f.offset, f.offset + f.limit)),
    },
    attempts: {
      listForRequest: track('attempts.listForRequest', (id: string) => attempts.filter((a) => a.requestId === id)),
      listForRequests: track('attempts.listForRequests', (ids: readonly string[]) => attempts.filter((a) => ids.includes(a.requestId))),
    },
    keys: {
      findById: track('keys.findById', (id: string) => keys.find((k) => k.id === id) ?? null),
      findByIds: track('keys.findByIds', (ids: readonly string[]) => keys.filter((k) => ids.includes(k.id))),
    },
  } as unknown as Repositories;
  return { repos, calls };
}

describe('request views', () => {
  const nodes = [aNode(), aNode()];
  const [k1, k2] = [aKey(nodes), aKey(nodes, { suite: 'ed25519' })];
  const requests = [aRequest(k1), aRequest(k2), aRequest(k1), aRequest(k1)];
  const attempts = [anAttempt(requests[0]!, { seq: 1 }), anAttempt(requests[0]!, { seq: 2 }), anAttempt(requests[1]!, { seq: 1 })];

  it('builds a page of views in three reads, whatever its size', async () => {
    for (const limit of [1, 2, 4]) {
      const { repos, calls } = fakeRepositories(requests, attempts, [k1, k2]);
      const views = await listRequestViews(repos, { limit, offset: 0 });
      expect(views).toHaveLength(limit);
      expect(calls.sort()).toEqual(['attempts.listForRequests', 'keys.findByIds', 'requests.list']);
    }
  });

  it("gives each request its own attempts in seq order and its key's group key and suite", async () => {
    const { repos } = fakeRepositories(requests, [...attempts].reverse(), [k1, k2]);
    const views = await listRequestViews(repos, { limit: 10, offset: 0 });
    expect(views.map((v) => v.request.id)).toEqual(requests.map((r) => r.id));
    expect(views[0]!.attempts.map((a) => a.seq)).toEqual([1, 2]);
    expect(views[1]!.attempts.map((a) => a.id)).toEqual([attempts[2]!.id]);
    expect(views[2]!.attempts).toEqual([]);
    expect(views.map((v) => [v.suite, v.groupPublicKey])).toEqual([
      [k1.suite, k1.groupPublicKey],
      [k2.suite, k2.groupPublicKey],
      [k1.suite, k1.groupPublicKey],
      [k1.suite, k1.groupPublicKey],
    ]);
  });

  it('reads nothing more for an empty page', async () => {
    const { repos, calls } = fakeRepositories([], [], []);
    expect(await listRequestViews(repos, { limit: 10, offset: 0 })).toEqual([]);
    expect(calls).toEqual(['requests.list']);
  });

  it('loads one view, or REQUEST_NOT_FOUND', async () => {
    const { repos } = fakeRepositories(requests, attempts, [k1, k2]);
    const view = await loadRequestView(repos, requests[0]!.id);
    expect(view).toEqual({ request: requests[0], attempts: attempts.slice(0, 2), groupPublicKey: k1.groupPublicKey, suite: k1.suite });
    await expect(loadRequestView(repos, '3f2c1a6e-8b1d-4c1e-9a57-0d6f3b2e9c41')).rejects.toMatchObject({ code: 'REQUEST_NOT_FOUND' });
  });
});

describe('messageTextOf', () => {
  const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
  it.each([
    ['utf8 text', { message: hex('pay 🍕 to alice'), messageEncoding: 'utf8' as const }, 'pay 🍕 to alice'],
    ['a BOM, kept as signed', { message: `efbbbf${hex('x')}`, messageEncoding: 'utf8' as const }, '\uFEFFx'],
    ['a NUL byte', { message: '610062', messageEncoding: 'utf8' as const }, 'a\u0000b'],
    ['bytes that are not UTF-8', { message: 'ff61', messageEncoding: 'utf8' as const }, null],
    ['a truncated sequence', { message: 'f09f8d', messageEncoding: 'utf8' as const }, null],
    ['an encoded surrogate (CESU)', { message: 'eda080', messageEncoding: 'utf8' as const }, null],
    ['a hex request, even if its bytes are text', { message: hex('hello'), messageEncoding: 'hex' as const }, null],
  ])('%s', (_what, request, expected) => {
    expect(messageTextOf(request)).toBe(expected);
  });
});
