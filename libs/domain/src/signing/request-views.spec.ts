import { describe, expect, it } from 'vitest';
import { aKey, aNode, anAttempt, aRequest } from '../../../persistence/src/testing/fixtures.js';
import type { Repositories } from '../ports.js';
import type { AttemptRecord, KeyRecord, NodeRecord, SigningRequestRecord } from '../records.js';
import { listRequestViews, loadRequestView, messageTextOf } from './request-views.js';

/** In-memory repositories that count every call, to see how many reads a view costs. */
function fakeRepositories(requests: SigningRequestRecord[], attempts: AttemptRecord[], keys: KeyRecord[], nodes: NodeRecord[] = []) {
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
    nodes: {
      listByIds: track('nodes.listByIds', (ids: readonly string[]) => nodes.filter((n) => ids.includes(n.id))),
    },
    // No node has said anything yet: every member reads as pending (decision-views.ts has its own spec).
    decisions: { listForRequests: track('decisions.listForRequests', () => []) },
  } as unknown as Repositories;
  return { repos, calls };
}

describe('request views', () => {
  const nodes = [aNode({ label: 'ops-1' }), aNode({ label: 'ops-2' })];
  const [k1, k2] = [aKey(nodes), aKey(nodes, { suite: 'ed25519' })];
  const requests = [aRequest(k1), aRequest(k2), aRequest(k1), aRequest(k1)];
  const attempts = [anAttempt(requests[0]!, { seq: 1 }), anAttempt(requests[0]!, { seq: 2 }), anAttempt(requests[1]!, { seq: 1 })];

  it('builds a page of views in five reads, whatever its size', async () => {
    for (const limit of [1, 2, 4]) {
      const { repos, calls } = fakeRepositories(requests, attempts, [k1, k2], nodes);
      const views = await listRequestViews(repos, { limit, offset: 0 });
      expect(views).toHaveLength(limit);
      expect(calls.sort()).toEqual(['attempts.listForRequests', 'decisions.listForRequests', 'keys.findByIds', 'nodes.listByIds', 'requests.list']);
    }
  });

  it("gives each request a decision slot per member of its key, in the key's member order, with the node's label", async () => {
    const { repos } = fakeRepositories(requests, attempts, [k1, k2], nodes);
    const [view] = await listRequestViews(repos, { limit: 1, offset: 0 });
    expect(view!.decisions).toEqual(
      k1.members.map((m, i) => ({ nodeId: m.nodeId, label: nodes[i]!.label, state: 'pending', decision: null, awaiting: null })),
    );
    expect((await loadRequestView(repos, requests[1]!.id)).decisions.map((d) => d.nodeId)).toEqual(k2.members.map((m) => m.nodeId));
  });

  it("reads another proposer's request as REQUEST_NOT_FOUND", async () => {
    const own = aRequest(k1, { intent: { proposer: 'principal:p1' } });
    const { repos } = fakeRepositories([own], [], [k1], nodes);
    expect((await loadRequestView(repos, own.id, { proposer: 'principal:p1' })).request.id).toBe(own.id);
    await expect(loadRequestView(repos, own.id, { proposer: 'principal:p2' })).rejects.toMatchObject({ code: 'REQUEST_NOT_FOUND' });
    await expect(loadRequestView(repos, own.id, { proposer: 'admin' })).rejects.toMatchObject({ code: 'REQUEST_NOT_FOUND' });
  });

  it("gives each request its own attempts in seq order and its key's group key and suite", async () => {
    const { repos } = fakeRepositories(requests, [...attempts].reverse(), [k1, k2], nodes);
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
    const { repos } = fakeRepositories(requests, attempts, [k1, k2], nodes);
    const view = await loadRequestView(repos, requests[0]!.id);
    expect(view).toMatchObject({ request: requests[0], attempts: attempts.slice(0, 2), groupPublicKey: k1.groupPublicKey, suite: k1.suite });
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
