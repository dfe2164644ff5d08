import { describe, expect, it } from 'vitest';
import type { DecisionRecord, KeyRecord, NodeRecord, SigningRequestRecord } from '#domain';
import { aKey, aNode, aRequest, at } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

describe('decision repository (request_decisions, migration 0006)', () => {
  const t = useMigratedStore();
  /** The node's row for the request, as the views read it. */
  const rowOf = async (requestId: string, nodeId: string) => (await t.store.read.decisions.listForRequests([requestId])).find((d) => d.nodeId === nodeId) ?? null;

  async function aRequestWithNodes(): Promise<{ nodes: NodeRecord[]; key: KeyRecord; request: SigningRequestRecord }> {
    const nodes = [aNode(), aNode(), aNode()];
    const key = aKey(nodes);
    const request = aRequest(key);
    await t.store.transaction(async (tx) => {
      for (const node of nodes) await tx.nodes.insert(node);
      await tx.keys.insert(key);
      await tx.requests.insert(request);
    });
    return { nodes, key, request };
  }

  const decided = (request: SigningRequestRecord, nodeId: string, overrides: Partial<DecisionRecord> = {}): DecisionRecord => ({
    requestId: request.id,
    nodeId,
    verdict: 'approve',
    by: 'policy',
    policyHash: 'ab'.repeat(32),
    rule: 'under-limit',
    reason: 'amount below 1000',
    decidedAt: at('2026-03-01T10:00:00.123Z'),
    signature: 'cd'.repeat(64),
    proposedAt: null,
    awaitingSince: null,
    receivedAt: at('2026-03-01T10:00:01.000Z'),
    ...overrides,
  });

  it('records proposals once per node, then an awaiting notice, then the decision in the same row', async () => {
    const { nodes, request } = await aRequestWithNodes();
    const [a, b] = nodes as [NodeRecord, NodeRecord];
    await t.store.transaction((tx) => tx.decisions.markProposed(request.id, [a.id, b.id], at('2026-03-01T09:00:00.000Z')));
    // Proposed again later: the first proposal's time stays.
    await t.store.transaction((tx) => tx.decisions.markProposed(request.id, [a.id], at('2026-03-01T09:30:00.000Z')));
    const proposed = await rowOf(request.id, a.id);
    expect(proposed).toMatchObject({ verdict: null, proposedAt: at('2026-03-01T09:00:00.000Z'), awaitingSince: null });

    const awaiting: DecisionRecord = {
      ...proposed!,
      policyHash: 'ef'.repeat(32),
      rule: 'large-transfer',
      reason: 'ask the operator',
      awaitingSince: at('2026-03-01T09:31:00.000Z'),
      receivedAt: at('2026-03-01T09:31:00.000Z'),
    };
    await t.store.transaction((tx) => tx.decisions.save(awaiting));
    expect(await rowOf(request.id, a.id)).toEqual(awaiting);

    const final = decided(request, a.id, { by: 'operator', proposedAt: awaiting.proposedAt, awaitingSince: awaiting.awaitingSince });
    await t.store.transaction((tx) => tx.decisions.save(final));
    expect(await rowOf(request.id, a.id)).toEqual(final);
    // A decided node proposed again keeps its decision.
    await t.store.transaction((tx) => tx.decisions.markProposed(request.id, [a.id, b.id], new Date()));
    expect(await rowOf(request.id, a.id)).toEqual(final);
  });

  it('lists a page of requests in one read, and answers nothing for ids that are not uuids', async () => {
    const one = await aRequestWithNodes();
    const two = await aRequestWithNodes();
    await t.store.transaction(async (tx) => {
      await tx.decisions.save(decided(one.request, one.nodes[0]!.id));
      await tx.decisions.save(decided(two.request, two.nodes[1]!.id, { verdict: 'decline', rule: null }));
    });
    const rows = await t.store.read.decisions.listForRequests([one.request.id, two.request.id, 'not-a-uuid']);
    expect(rows.map((r) => [r.requestId, r.nodeId, r.verdict]).sort()).toEqual(
      [
        [one.request.id, one.nodes[0]!.id, 'approve'],
        [two.request.id, two.nodes[1]!.id, 'decline'],
      ].sort(),
    );
    expect(await t.store.read.decisions.listForRequests([])).toEqual([]);
    expect(await t.store.read.decisions.listForRequests(['not-a-uuid'])).toEqual([]);
  });

  it('refuses half a decision (a verdict without its signature) and an awaiting row without its reason', async () => {
    const { nodes, request } = await aRequestWithNodes();
    await expect(t.store.transaction((tx) => tx.decisions.save(decided(request, nodes[0]!.id, { signature: null })))).rejects.toThrow(
      /request_decisions_signed_check/,
    );
    const awaiting = decided(request, nodes[1]!.id, { verdict: null, by: null, decidedAt: null, signature: null, reason: null, awaitingSince: new Date() });
    await expect(t.store.transaction((tx) => tx.decisions.save(awaiting))).rejects.toThrow(/request_decisions_awaiting_check/);
  });
});
