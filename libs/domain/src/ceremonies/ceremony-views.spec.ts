import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Repositories } from '../ports.js';
import type { CeremonyRecord } from '../records.js';
import { listCeremonyViews, loadCeremonyView } from './ceremony-views.js';

const id = (i: number) => String(i).padStart(64, '0');

const aCeremony = (round1: number[]): CeremonyRecord => ({
  id: randomUUID(),
  keyId: randomUUID(),
  suite: 'ed25519',
  threshold: 2,
  status: 'round2',
  participants: [1, 2, 3].map((i) => ({ nodeId: randomUUID(), identifier: id(i), identityKey: 'ab'.repeat(32) })),
  round1: Object.fromEntries(round1.map((i) => [id(i), { package: { identifier: id(i), commitment: [], proofOfKnowledge: '' }, signature: '' }])),
  transcriptHash: null,
  failureCode: null,
  failureReason: null,
  culpritNodeId: null,
  culprits: [],
  deadline: new Date(),
  roundTimeoutMs: 60_000,
  createdBy: 'admin-token',
  createdAt: new Date(),
  updatedAt: new Date(),
  completedAt: null,
});

describe('ceremony views', () => {
  const ceremonies = [aCeremony([1, 2, 3]), aCeremony([2]), aCeremony([])];
  const senders = [
    { ceremonyId: ceremonies[0]!.id, fromIdentifier: id(1) },
    { ceremonyId: ceremonies[0]!.id, fromIdentifier: id(3) },
  ];
  const results = [{ ceremonyId: ceremonies[1]!.id, nodeId: ceremonies[1]!.participants[0]!.nodeId }];

  const fake = () => {
    const calls: string[] = [];
    const repos = {
      ceremonies: {
        findById: (cid: string) => (calls.push('findById'), Promise.resolve(ceremonies.find((c) => c.id === cid) ?? null)),
        list: (f: { limit: number }) => (calls.push('list'), Promise.resolve(ceremonies.slice(0, f.limit))),
        listRound2Senders: (ids: readonly string[]) => (calls.push('listRound2Senders'), Promise.resolve(senders.filter((s) => ids.includes(s.ceremonyId)))),
        listResultSenders: (ids: readonly string[]) => (calls.push('listResultSenders'), Promise.resolve(results.filter((r) => ids.includes(r.ceremonyId)))),
      },
    } as unknown as Repositories;
    return { repos, calls };
  };

  it('builds a page of views in three reads, whatever its size, each with its own progress', async () => {
    for (const limit of [1, 3]) {
      const { repos, calls } = fake();
      const views = await listCeremonyViews(repos, { limit, offset: 0 });
      expect(views).toHaveLength(limit);
      expect(calls.sort()).toEqual(['list', 'listResultSenders', 'listRound2Senders']);
    }
    const views = await listCeremonyViews(fake().repos, { limit: 3, offset: 0 });
    expect(views.map((v) => [v.round1Received, v.round2Received, v.resultsReceived])).toEqual([
      [[id(1), id(2), id(3)], [id(1), id(3)], []],
      [[id(2)], [], [ceremonies[1]!.participants[0]!.nodeId]],
      [[], [], []],
    ]);
  });

  it('loads one view, or CEREMONY_NOT_FOUND', async () => {
    const { repos } = fake();
    expect((await loadCeremonyView(repos, ceremonies[0]!.id)).round2Received).toEqual([id(1), id(3)]);
    await expect(loadCeremonyView(repos, randomUUID())).rejects.toMatchObject({ code: 'CEREMONY_NOT_FOUND' });
  });
});
