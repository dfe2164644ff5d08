import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { instanceLockSql, relayChannel, type InstanceRecord, type RelayedFrame } from '#domain';
import { listenForNotifications } from '../notification-listener.js';
import { aKey, aNode, aRequest } from '../testing/fixtures.js';
import { useMigratedStore } from '../testing/migrated-store.js';

const anInstance = (overrides: Partial<InstanceRecord> = {}): InstanceRecord => {
  const now = new Date();
  return { id: randomBytes(8).toString('hex'), pid: 1, host: 'test', startedAt: now, heartbeatAt: now, ...overrides };
};
const past = (ms: number) => new Date(Date.now() - ms);
const frame = (requestId: string): RelayedFrame['body'] => ({ frame: { type: 'request.closed', requestId, status: 'cancelled' } });

describe('cluster repository (several coordinator instances on one database)', () => {
  const ctx = useMigratedStore();
  const onPostgres = Boolean(process.env.DATABASE_URL);

  it('registers instances, routes by presence to live ones only, and reaps the silent with what they held', async () => {
    const cluster = ctx.store.read.cluster;
    const a = anInstance();
    const b = anInstance();
    expect(await cluster.register(a, past(10_000))).toEqual([]);
    expect((await cluster.register(b, past(10_000))).map((i) => i.id)).toEqual([a.id]);
    const [n1, n2, n3] = [aNode(), aNode(), aNode()];
    for (const n of [n1, n2, n3]) await ctx.store.read.nodes.insert(n);
    await cluster.bind({ nodeId: n1.id, instanceId: a.id, connectionId: `${a.id}.1`, since: new Date() });
    await cluster.bind({ nodeId: n2.id, instanceId: b.id, connectionId: `${b.id}.1`, since: new Date() });
    // A newer connection of n2, on a, replaces b's row; a release of the old one changes nothing.
    await cluster.bind({ nodeId: n2.id, instanceId: a.id, connectionId: `${a.id}.2`, since: new Date() });
    await cluster.release(n2.id, `${b.id}.1`);
    const presence = await cluster.presenceOf([n1.id, n2.id, n3.id], past(10_000));
    expect(presence.map((p) => [p.nodeId, p.connectionId]).sort()).toEqual([[n1.id, `${a.id}.1`], [n2.id, `${a.id}.2`]].sort());

    const key = aKey([n1, n2, n3]);
    await ctx.store.read.keys.insert(key);
    const request = aRequest(key);
    await ctx.store.read.requests.insert(request);
    await cluster.saveAsks(request.id, [{ nodeId: n1.id, connectionId: `${a.id}.1` }], [], new Date());
    // An event's reads (request-state.repository) see both.
    let reads = await ctx.store.read.requestState.load(request.id, [n1.id, n2.id, n3.id], past(10_000));
    expect(reads.presence.map((p) => p.nodeId).sort()).toEqual([n1.id, n2.id].sort());
    expect(reads.asked).toEqual([{ nodeId: n1.id, connectionId: `${a.id}.1` }]);
    await cluster.saveAsks(request.id, [{ nodeId: n2.id, connectionId: `${a.id}.2` }], [n1.id], new Date());
    reads = await ctx.store.read.requestState.load(request.id, [n1.id, n2.id, n3.id], past(10_000));
    expect(reads.asked).toEqual([{ nodeId: n2.id, connectionId: `${a.id}.2` }]);

    // Relayed in order to the instance that holds the node, taken once.
    await cluster.relay([
      { instanceId: a.id, nodeId: n1.id, connectionId: `${a.id}.1`, body: frame(request.id) },
      { instanceId: a.id, nodeId: n2.id, connectionId: `${a.id}.2`, body: { disconnect: { code: 4403, reason: 'revoked' } } },
    ]);
    expect(await cluster.relayToNode(n1.id, frame(request.id), past(10_000))).toBe(true);
    expect(await cluster.relayToNode(n3.id, frame(request.id), past(10_000))).toBe(false);
    const taken = await cluster.takeRelayed(a.id, 10);
    expect(taken.map((t) => [t.nodeId, 'frame' in t.body ? t.body.frame.type : 'disconnect'])).toEqual([
      [n1.id, 'request.closed'],
      [n2.id, 'disconnect'],
      [n1.id, 'request.closed'],
    ]);
    expect(await cluster.takeRelayed(a.id, 10)).toEqual([]);

    // a falls silent: its presence stops counting at once, and the reap deletes it with its rows.
    await cluster.heartbeat(b.id, new Date());
    expect(await cluster.presenceOf([n1.id], new Date(Date.now() + 1))).toEqual([]);
    await cluster.relay([{ instanceId: a.id, nodeId: n1.id, connectionId: `${a.id}.1`, body: frame(request.id) }]);
    expect(await cluster.reap(past(-1))).toEqual(expect.arrayContaining([a.id]));
    expect(await cluster.heartbeat(a.id, new Date())).toBe(false);
    expect(await cluster.takeRelayed(a.id, 10)).toEqual([]);
    expect(await cluster.presenceOf([n1.id, n2.id], past(60_000))).toEqual([]);
  });

  it.skipIf(!onPostgres)('NOTIFY reaches the holder at commit, and an instance whose liveness lock is free is dead at once', async () => {
    const cluster = ctx.store.read.cluster;
    const live = anInstance();
    const dead = anInstance();
    const heard: string[] = [];
    const listener = await listenForNotifications({
      databaseUrl: ctx.db.databaseUrl!,
      channels: [relayChannel(live.id)],
      setup: async (query) => {
        await query(`SELECT pg_advisory_lock(${instanceLockSql('$1')})`, [live.id]);
      },
      onNotification: (channel) => heard.push(channel),
    });
    try {
      await cluster.register(dead, past(10_000), true);
      // `dead` holds no lock (no process of its own): registering `live` with byLock removes it.
      const others = await cluster.register(live, past(10_000), true);
      expect(others).toEqual([]);
      const n = aNode();
      await ctx.store.read.nodes.insert(n);
      await cluster.bind({ nodeId: n.id, instanceId: live.id, connectionId: `${live.id}.1`, since: new Date() });
      // Rolled back: no notification, no row.
      await ctx.store
        .transaction(async (tx) => {
          await tx.cluster.relay([{ instanceId: live.id, nodeId: n.id, connectionId: `${live.id}.1`, body: frame(n.id) }]);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      expect(heard).toEqual([]);
      expect(await cluster.takeRelayed(live.id, 10)).toEqual([]);
      await ctx.store.transaction((tx) => tx.cluster.relay([{ instanceId: live.id, nodeId: n.id, connectionId: `${live.id}.1`, body: frame(n.id) }]));
      await expect.poll(() => heard.length, { timeout: 5_000 }).toBe(1);
      expect(heard).toEqual([relayChannel(live.id)]);
      // `live`'s lock is held by the listener's session: a reap by lock keeps it.
      expect(await cluster.reap(past(60_000), true)).toEqual([]);
    } finally {
      await listener.close();
    }
    // Its connection gone, the lock is free: the next reap by lock deletes it though its heartbeat is fresh.
    await expect.poll(async () => cluster.reap(past(60_000), true), { timeout: 5_000 }).toEqual([live.id]);
  });

  it.skipIf(!onPostgres)('the liveness lock is a 64-bit key made of the instance id', async () => {
    const client = new pg.Client({ connectionString: ctx.db.databaseUrl! });
    await client.connect();
    try {
      const { rows } = await client.query<{ k: string }>(`SELECT ${instanceLockSql('$1')}::text AS k`, ['ffffffffffffffff']);
      expect(rows[0]!.k).toBe('-1');
    } finally {
      await client.end();
    }
  });
});
