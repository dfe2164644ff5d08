import { randomUUID } from 'node:crypto';
import {
  Between,
  LessThanOrEqual,
  MoreThan,
  MoreThanOrEqual,
  type EntityManager,
  type FindOptionsWhere,
} from 'typeorm';
import { entryHash, GENESIS_HASH } from '#audit';
import type { AuditCheckpointRecord, AuditCosignatureRecord, AuditEntry, AuditEntryInput, AuditFilter, AuditRepository, AuditWitnessRefusalRecord } from '#domain';
import { AdvisoryLock } from '../advisory-locks.js';
import { AuditCheckpointEntity } from '../entities/audit-checkpoint.entity.js';
import { AuditEntryEntity, type AuditEntryRow } from '../entities/audit-entry.entity.js';
import { inTransaction } from './repository-support.js';

export class TypeOrmAuditRepository implements AuditRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The chain lock is transaction-scoped: appends from concurrent transactions queue here until the
   * holder commits, so each one reads the committed head and the chain never forks. Append last in a
   * transaction: a row lock taken after the chain lock can deadlock with a transaction that took the
   * row lock first and now waits to append.
   */
  async append(input: AuditEntryInput): Promise<AuditEntry> {
    const [entry] = await this.appendAll([input]);
    return entry!;
  }

  /** One chain lock, one read of the head and one INSERT for all of `inputs`, in order. */
  appendAll(inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return inTransaction(this.manager, async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${AdvisoryLock.auditChain})`);
      // Plain SQL on this hot path (every event appends): TypeORM's query builder costs more than the query.
      const [head] = await manager.query<{ seq: string | number; hash: string }[]>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
      let seq = head ? Number(head.seq) : 0;
      let prevHash = head ? head.hash : GENESIS_HASH;
      const entries = inputs.map((input): AuditEntry => {
        const fields: Omit<AuditEntry, 'hash'> = {
          seq: ++seq,
          id: randomUUID(),
          occurredAt: input.occurredAt,
          actorKind: input.actorKind,
          actorId: input.actorId,
          action: input.action,
          outcome: input.outcome,
          keyId: input.keyId ?? null,
          requestId: input.requestId ?? null,
          attemptId: input.attemptId ?? null,
          nodeId: input.nodeId ?? null,
          // Hash exactly what jsonb will hold: a Date becomes its ISO string, undefined fields disappear.
          details: JSON.parse(JSON.stringify(input.details)) as Record<string, unknown>,
          prevHash,
        };
        const entry: AuditEntry = { ...fields, hash: entryHash(fields) };
        prevHash = entry.hash;
        return entry;
      });
      // One statement for all of them; `details` as the JSON text that was hashed.
      await manager.query(
        `INSERT INTO audit_log (seq, id, occurred_at, actor_kind, actor_id, action, outcome, key_id, request_id, attempt_id, node_id, details, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
           $10::text[], $11::text[], $12::jsonb[], $13::text[], $14::text[])`,
        [
          entries.map((e) => e.seq),
          entries.map((e) => e.id),
          entries.map((e) => e.occurredAt),
          entries.map((e) => e.actorKind),
          entries.map((e) => e.actorId),
          entries.map((e) => e.action),
          entries.map((e) => e.outcome),
          entries.map((e) => e.keyId),
          entries.map((e) => e.requestId),
          entries.map((e) => e.attemptId),
          entries.map((e) => e.nodeId),
          entries.map((e) => JSON.stringify(e.details)),
          entries.map((e) => e.prevHash),
          entries.map((e) => e.hash),
        ],
      );
      return entries;
    });
  }

  /** Matching entries with seq > afterSeq, ascending; `from` and `to` are inclusive bounds on occurredAt. */
  async query(filter: AuditFilter): Promise<AuditEntry[]> {
    const where: FindOptionsWhere<AuditEntryRow> = {};
    if (filter.requestId !== undefined) where.requestId = filter.requestId;
    if (filter.keyId !== undefined) where.keyId = filter.keyId;
    if (filter.nodeId !== undefined) where.nodeId = filter.nodeId;
    if (filter.attemptId !== undefined) where.attemptId = filter.attemptId;
    if (filter.action !== undefined) where.action = filter.action;
    if (filter.actorKind !== undefined) where.actorKind = filter.actorKind;
    if (filter.actorId !== undefined) where.actorId = filter.actorId;
    if (filter.afterSeq !== undefined) where.seq = MoreThan(filter.afterSeq);
    if (filter.from !== undefined && filter.to !== undefined) where.occurredAt = Between(filter.from, filter.to);
    else if (filter.from !== undefined) where.occurredAt = MoreThanOrEqual(filter.from);
    else if (filter.to !== undefined) where.occurredAt = LessThanOrEqual(filter.to);
    return this.page(where, filter.limit);
  }

  listAfter(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    return this.page({ seq: MoreThan(afterSeq) }, limit);
  }

  async hashesAfter(afterSeq: number, limit: number): Promise<{ seq: number; hash: string }[]> {
    if (limit <= 0) return [];
    const rows = await this.manager.find(AuditEntryEntity, {
      select: { seq: true, hash: true },
      where: { seq: MoreThan(afterSeq) },
      order: { seq: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({ seq: r.seq, hash: r.hash }));
  }

  async headSeq(): Promise<number> {
    const [head] = await this.manager.find(AuditEntryEntity, { select: { seq: true }, order: { seq: 'DESC' }, take: 1 });
    return head ? head.seq : 0;
  }

  /** ON CONFLICT DO NOTHING: concurrent instances issuing the same size keep the first. */
  async saveCheckpoint(c: AuditCheckpointRecord): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `INSERT INTO audit_checkpoints (origin, tree_size, root_hash, key_name, note, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (origin, tree_size) DO NOTHING RETURNING tree_size`,
      [c.origin, c.treeSize, c.rootHash, c.keyName, c.note, c.createdAt],
    );
    return rows.length === 1;
  }

  latestCheckpoint(origin: string): Promise<AuditCheckpointRecord | null> {
    return this.manager.findOne(AuditCheckpointEntity, { where: { origin }, order: { treeSize: 'DESC' } });
  }

  checkpointAt(origin: string, treeSize: number): Promise<AuditCheckpointRecord | null> {
    return this.manager.findOne(AuditCheckpointEntity, { where: { origin, treeSize } });
  }

  /** Walks checkpoints newest first (primary key) and stops at the first with enough cosignatures. */
  async latestCheckpointWith(origin: string, minCosignatures: number): Promise<AuditCheckpointRecord | null> {
    if (minCosignatures <= 0) return this.latestCheckpoint(origin);
    const rows: { tree_size: string | number }[] = await this.manager.query(
      `SELECT cp.tree_size FROM audit_checkpoints cp
       WHERE cp.origin = $1
         AND (SELECT count(*) FROM audit_cosignatures c WHERE c.origin = cp.origin AND c.tree_size = cp.tree_size) >= $2
       ORDER BY cp.tree_size DESC LIMIT 1`,
      [origin, minCosignatures],
    );
    return rows[0] ? this.checkpointAt(origin, Number(rows[0].tree_size)) : null;
  }

  async saveCosignature(c: AuditCosignatureRecord): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `INSERT INTO audit_cosignatures (origin, tree_size, node_id, key_name, signed_at, line, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (origin, tree_size, node_id) DO NOTHING RETURNING node_id`,
      [c.origin, c.treeSize, c.nodeId, c.keyName, c.signedAt, c.line, c.createdAt],
    );
    return rows.length === 1;
  }

  async cosignaturesOf(origin: string, treeSize: number): Promise<AuditCosignatureRecord[]> {
    const rows: CosignatureRow[] = await this.manager.query(
      `SELECT origin, tree_size, node_id, key_name, signed_at, line, created_at FROM audit_cosignatures
       WHERE origin = $1 AND tree_size = $2 ORDER BY created_at, node_id`,
      [origin, treeSize],
    );
    return rows.map(cosignatureOf);
  }

  /** One index probe per node (audit_cosignatures_node_idx), however many checkpoints were cosigned. */
  async latestCosignatures(origin: string, nodeIds: readonly string[]): Promise<AuditCosignatureRecord[]> {
    if (nodeIds.length === 0) return [];
    const rows: CosignatureRow[] = await this.manager.query(
      `SELECT c.origin, c.tree_size, c.node_id, c.key_name, c.signed_at, c.line, c.created_at
       FROM unnest($2::uuid[]) AS n(id)
       CROSS JOIN LATERAL (
         SELECT * FROM audit_cosignatures WHERE origin = $1 AND node_id = n.id ORDER BY tree_size DESC LIMIT 1
       ) c`,
      [origin, nodeIds],
    );
    return rows.map(cosignatureOf);
  }

  async saveWitnessRefusal(r: AuditWitnessRefusalRecord): Promise<void> {
    await this.manager.query(
      `INSERT INTO audit_witness_status (origin, node_id, refusal_code, refusal_text, tree_size, refused_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (origin, node_id) DO UPDATE SET refusal_code = EXCLUDED.refusal_code, refusal_text = EXCLUDED.refusal_text,
         tree_size = EXCLUDED.tree_size, refused_at = EXCLUDED.refused_at`,
      [r.origin, r.nodeId, r.code, r.message, r.treeSize, r.refusedAt],
    );
  }

  async witnessRefusals(origin: string): Promise<AuditWitnessRefusalRecord[]> {
    const rows: { origin: string; node_id: string; refusal_code: string; refusal_text: string; tree_size: string | number; refused_at: Date | string }[] =
      await this.manager.query(
        `SELECT origin, node_id, refusal_code, refusal_text, tree_size, refused_at FROM audit_witness_status WHERE origin = $1 ORDER BY node_id`,
        [origin],
      );
    return rows.map((r) => ({
      origin: r.origin,
      nodeId: r.node_id,
      code: r.refusal_code,
      message: r.refusal_text,
      treeSize: Number(r.tree_size),
      refusedAt: new Date(r.refused_at),
    }));
  }

  private async page(where: FindOptionsWhere<AuditEntryRow>, limit: number): Promise<AuditEntry[]> {
    if (limit <= 0) return [];
    const rows = await this.manager.find(AuditEntryEntity, { where, order: { seq: 'ASC' }, take: limit });
    return rows.map(({ recordedAt: _recordedAt, ...entry }) => entry);
  }
}

interface CosignatureRow {
  origin: string;
  tree_size: string | number;
  node_id: string;
  key_name: string;
  signed_at: string | number;
  line: string;
  created_at: Date | string;
}

const cosignatureOf = (r: CosignatureRow): AuditCosignatureRecord => ({
  origin: r.origin,
  treeSize: Number(r.tree_size),
  nodeId: r.node_id,
  keyName: r.key_name,
  signedAt: Number(r.signed_at),
  line: r.line,
  createdAt: new Date(r.created_at),
});
