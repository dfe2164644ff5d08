import type { EntityManager } from 'typeorm';
import {
  type ClusterRepository,
  type InstanceRecord,
  type PresenceRecord,
  type RelayedBody,
  type RelayedFrame,
  instanceLockSql,
  SETTLED_CHANNEL,
} from '#domain';
import { AdvisoryLock } from '../advisory-locks.js';
import { inTransaction } from './repository-support.js';

interface InstanceRow {
  id: string;
  pid: number;
  host: string;
  started_at: Date | string;
  heartbeat_at: Date | string;
}
interface PresenceRow {
  node_id: string;
  instance_id: string;
  connection_id: string;
  since: Date | string;
}

/**
 * An instance whose liveness lock this session can take has no live holder: its process is gone. The
 * transaction-level try conflicts with the holder's session-level lock and is released at commit.
 */
const DEAD_BY_LOCK = `pg_try_advisory_xact_lock(${instanceLockSql('id')})`;

const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const instanceOf = (r: InstanceRow): InstanceRecord => ({ id: r.id, pid: r.pid, host: r.host, startedAt: date(r.started_at), heartbeatAt: date(r.heartbeat_at) });
const presenceOf = (r: PresenceRow): PresenceRecord => ({ nodeId: r.node_id, instanceId: r.instance_id, connectionId: r.connection_id, since: date(r.since) });

/**
 * The tables several coordinator instances share (migration 0014), in plain SQL (a write's RETURNING is
 * read through a SELECT around it: the drivers answer a bare one in another shape than rows): they are small, hot and
 * have no entity of their own. Relayed frames are announced with `pg_notify` on the holder's channel
 * (relayChannel in #domain), which PostgreSQL delivers when the writing transaction commits, never if it
 * rolls back.
 */
export class TypeOrmClusterRepository implements ClusterRepository {
  constructor(private readonly manager: EntityManager) {}

  register(instance: InstanceRecord, liveSince: Date, byLock = false): Promise<InstanceRecord[]> {
    return inTransaction(this.manager, async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(${AdvisoryLock.instances})`);
      if (byLock) await m.query(`DELETE FROM coordinator_instances WHERE id <> $1 AND ${DEAD_BY_LOCK}`, [instance.id]);
      const others: InstanceRow[] = await m.query(
        `SELECT id, pid, host, started_at, heartbeat_at FROM coordinator_instances WHERE id <> $1 AND heartbeat_at > $2 ORDER BY started_at`,
        [instance.id, liveSince],
      );
      await m.query(
        `INSERT INTO coordinator_instances (id, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`,
        [instance.id, instance.pid, instance.host, instance.startedAt, instance.heartbeatAt],
      );
      return others.map(instanceOf);
    });
  }

  async heartbeat(instanceId: string, at: Date): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(`WITH beat AS (UPDATE coordinator_instances SET heartbeat_at = $2 WHERE id = $1 RETURNING id) SELECT id FROM beat`, [
      instanceId,
      at,
    ]);
    return rows.length > 0;
  }

  async remove(instanceId: string): Promise<void> {
    await this.manager.query(`DELETE FROM coordinator_instances WHERE id = $1`, [instanceId]);
  }

  async reap(liveSince: Date, byLock = false): Promise<string[]> {
    const rows: { id: string }[] = await inTransaction(this.manager, (m) =>
      m.query(`WITH gone AS (DELETE FROM coordinator_instances WHERE heartbeat_at <= $1 ${byLock ? `OR ${DEAD_BY_LOCK}` : ''} RETURNING id) SELECT id FROM gone`, [liveSince]),
    );
    return rows.map((r) => r.id);
  }

  async bind(p: PresenceRecord): Promise<void> {
    await this.manager.query(
      `INSERT INTO node_presence (node_id, instance_id, connection_id, since) VALUES ($1, $2, $3, $4)
       ON CONFLICT (node_id) DO UPDATE SET instance_id = EXCLUDED.instance_id, connection_id = EXCLUDED.connection_id, since = EXCLUDED.since`,
      [p.nodeId, p.instanceId, p.connectionId, p.since],
    );
  }

  async release(nodeId: string, connectionId: string): Promise<void> {
    await this.manager.query(`DELETE FROM node_presence WHERE node_id = $1 AND connection_id = $2`, [nodeId, connectionId]);
  }

  async presenceOf(nodeIds: readonly string[], liveSince: Date): Promise<PresenceRecord[]> {
    if (nodeIds.length === 0) return [];
    const rows: PresenceRow[] = await this.manager.query(
      `SELECT p.node_id, p.instance_id, p.connection_id, p.since
       FROM node_presence p JOIN coordinator_instances i ON i.id = p.instance_id
       WHERE p.node_id = ANY($1::uuid[]) AND i.heartbeat_at > $2`,
      [nodeIds, liveSince],
    );
    return rows.map(presenceOf);
  }

  async relay(frames: readonly RelayedFrame[]): Promise<void> {
    if (frames.length === 0) return;
    await this.manager.query(
      `WITH queued AS (
         INSERT INTO relayed_frames (instance_id, node_id, connection_id, body)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::jsonb[])
         RETURNING instance_id
       )
       SELECT pg_notify('roundtable_relay_' || instance_id, '') FROM (SELECT DISTINCT instance_id FROM queued) d`,
      [frames.map((f) => f.instanceId), frames.map((f) => f.nodeId), frames.map((f) => f.connectionId), frames.map((f) => JSON.stringify(f.body))],
    );
  }

  async relayToNode(nodeId: string, body: RelayedBody, liveSince: Date): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `WITH queued AS (
         INSERT INTO relayed_frames (instance_id, node_id, connection_id, body)
         SELECT p.instance_id, p.node_id, p.connection_id, $2::jsonb
         FROM node_presence p JOIN coordinator_instances i ON i.id = p.instance_id
         WHERE p.node_id = $1 AND i.heartbeat_at > $3
         RETURNING instance_id
       )
       SELECT pg_notify('roundtable_relay_' || instance_id, '') FROM queued`,
      [nodeId, JSON.stringify(body), liveSince],
    );
    return rows.length > 0;
  }

  async takeRelayed(instanceId: string, limit: number): Promise<RelayedFrame[]> {
    const rows: { id: string; node_id: string; connection_id: string; body: RelayedBody | string }[] = await this.manager.query(
      `WITH taken AS (
         DELETE FROM relayed_frames WHERE id IN (
           SELECT id FROM relayed_frames WHERE instance_id = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
         ) RETURNING id, node_id, connection_id, body
       ) SELECT id, node_id, connection_id, body FROM taken ORDER BY id`,
      [instanceId, limit],
    );
    return rows
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((r) => ({ instanceId, nodeId: r.node_id, connectionId: r.connection_id, body: typeof r.body === 'string' ? (JSON.parse(r.body) as RelayedBody) : r.body }));
  }

  async announceSettled(requestId: string): Promise<void> {
    await this.manager.query(`SELECT pg_notify($1, $2)`, [SETTLED_CHANNEL, requestId]);
  }

  async saveAsks(requestId: string, marks: readonly { nodeId: string; connectionId: string }[], clears: readonly string[], at: Date): Promise<void> {
    if (clears.length > 0) await this.manager.query(`DELETE FROM request_asks WHERE request_id = $1 AND node_id = ANY($2::uuid[])`, [requestId, clears]);
    if (marks.length > 0) {
      await this.manager.query(
        `INSERT INTO request_asks (request_id, node_id, connection_id, asked_at)
         SELECT $1, n, c, $4 FROM unnest($2::uuid[], $3::text[]) AS x(n, c)
         ON CONFLICT (request_id, node_id) DO UPDATE SET connection_id = EXCLUDED.connection_id, asked_at = EXCLUDED.asked_at`,
        [requestId, marks.map((m) => m.nodeId), marks.map((m) => m.connectionId), at],
      );
    }
  }
}
