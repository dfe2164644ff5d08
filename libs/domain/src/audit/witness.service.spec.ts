import { describe, expect, it } from 'vitest';
import type { CoordinatorFrame, Outgoing } from '#protocol';
import type { NodeLink } from '../common/tokens.js';
import type { Store } from '../ports.js';
import type { AuditCheckpointRecord } from '../records.js';
import type { AuditLogKey, TransparencyLogService } from './transparency-log.service.js';
import { MAX_WITNESS_OFFERS_PER_ROUND, WitnessService } from './witness.service.js';

/** A witness round with `n` connected nodes; node i has cosigned size `cosigned(i)` (none when undefined). */
function round(n: number, cosigned: (i: number) => number | undefined) {
  const nodes = Array.from({ length: n }, (_, i) => `node-${String(i).padStart(5, '0')}`);
  const sent: string[] = [];
  const link = {
    connectedNodeIds: () => nodes,
    connection: (id: string) => ({ id: `${id}.1`, since: new Date() }),
    send: (id: string, frame: Outgoing<CoordinatorFrame>) => {
      expect(frame.type).toBe('audit.checkpoint');
      sent.push(id);
      return true;
    },
  } as unknown as NodeLink;
  const checkpoint = { origin: 'o', treeSize: 1000, note: 'note' } as AuditCheckpointRecord;
  const store = {
    read: {
      audit: {
        latestCosignatures: (_origin: string, ids: readonly string[]) =>
          Promise.resolve(ids.flatMap((id) => { const size = cosigned(nodes.indexOf(id)); return size === undefined ? [] : [{ nodeId: id, treeSize: size }]; })),
      },
    },
  } as unknown as Store;
  const log = {
    latestIssued: () => Promise.resolve(checkpoint),
    consistency: () => Promise.resolve({ hashes: [] }),
    logKey: { publicKey: new Uint8Array(32) },
  } as unknown as TransparencyLogService;
  const key = { origin: 'o', witnessIntervalMs: 0 } as AuditLogKey;
  return { service: new WitnessService(store, link, log, key), sent, nodes };
}

describe('witness rounds', () => {
  it('show the checkpoint to a bounded number of nodes per round, the most behind first, the rest in later rounds', async () => {
    // 500 nodes: even ones cosigned up to their index, odd ones nothing yet, the last 10 are up to date.
    const { service, sent, nodes } = round(500, (i) => (i >= 490 ? 1000 : i % 2 === 0 ? i : undefined));
    await service.tick();
    expect(sent).toHaveLength(MAX_WITNESS_OFFERS_PER_ROUND);
    // Nodes that cosigned nothing (size 0) and node 0 come first.
    expect(sent.every((id) => nodes.indexOf(id) % 2 === 1 || nodes.indexOf(id) === 0)).toBe(true);
    // A second round (offers still in flight) goes on with the next ones, never the up-to-date ones.
    await service.tick();
    expect(new Set(sent).size).toBe(2 * MAX_WITNESS_OFFERS_PER_ROUND);
    for (let r = 0; r < 10; r++) await service.tick();
    expect(new Set(sent).size).toBe(490);
    expect(sent.some((id) => nodes.indexOf(id) >= 490)).toBe(false);
  });

  it('with few nodes, shows every one that is behind in one round', async () => {
    const { service, sent } = round(5, (i) => (i === 0 ? 1000 : undefined));
    await service.tick();
    expect(sent).toHaveLength(4);
  });
});
