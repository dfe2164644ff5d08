import type { EntityManager } from 'typeorm';
import type {
  AttemptRecord,
  AttemptStatus,
  CommitmentRecord,
  DecisionRecord,
  PresenceRecord,
  RequestEventReads,
  RequestStateRepository,
  ShareRecord,
} from '#domain';
import { isUuid } from './repository-support.js';

/** JSON gives timestamps as text. */
const date = (v: string): Date => new Date(v);
const dateOrNull = (v: string | null): Date | null => (v === null ? null : new Date(v));

interface AttemptJson {
  id: string;
  request_id: string;
  seq: number;
  status: AttemptStatus;
  participants: string[];
  commitments: AttemptRecord['commitments'];
  deadline: string;
  started_at: string;
  ended_at: string | null;
  failure_reason: string | null;
}
interface CommitmentJson {
  id: string;
  key_id: string;
  request_id: string;
  node_id: string;
  identifier: string;
  hiding: string;
  binding: string;
  status: CommitmentRecord['status'];
  attempt_id: string | null;
  received_at: string;
}
interface ShareJson {
  attempt_id: string;
  request_id: string;
  node_id: string;
  identifier: string;
  share: string;
  valid: boolean | null;
  received_at: string;
}
interface DecisionJson {
  request_id: string;
  node_id: string;
  verdict: DecisionRecord['verdict'];
  source: DecisionRecord['by'];
  policy_hash: string | null;
  rule: string | null;
  reason: string | null;
  decided_at: string | null;
  signature: string | null;
  proposed_at: string | null;
  awaiting_since: string | null;
  received_at: string;
}
interface Row {
  attempts: AttemptJson[] | string;
  commitments: CommitmentJson[] | string;
  shares: ShareJson[] | string;
  decisions: DecisionJson[] | string;
  presence: { node_id: string; instance_id: string; connection_id: string; since: string }[] | string;
  asked: { node_id: string; connection_id: string }[] | string;
}

/** A json column: parsed by `pg`, text from some drivers. */
const parsed = <T>(v: T[] | string): T[] => (typeof v === 'string' ? (JSON.parse(v) as T[]) : v);

/**
 * The reads of a signing request's event in one statement: each table's rows for the request as a JSON
 * array (in the orders the per-table repositories use), instead of six round trips through TypeORM's
 * query builder. The request's row itself is locked and read first, by the caller.
 */
const LOAD = `
SELECT
  (SELECT coalesce(json_agg(a ORDER BY a.seq), '[]'::json) FROM (
     SELECT id, request_id, seq, status, participants, commitments, deadline, started_at, ended_at, failure_reason
     FROM signing_attempts WHERE request_id = $1) a) AS attempts,
  (SELECT coalesce(json_agg(c ORDER BY c.received_at, c.id), '[]'::json) FROM (
     SELECT id, key_id, request_id, node_id, identifier, hiding, binding, status, attempt_id, received_at
     FROM commitments WHERE request_id = $1 AND status IN ('ready', 'assigned')) c) AS commitments,
  (SELECT coalesce(json_agg(s ORDER BY s.received_at, s.attempt_id, s.node_id), '[]'::json) FROM (
     SELECT attempt_id, request_id, node_id, identifier, share, valid, received_at
     FROM signature_shares WHERE request_id = $1) s) AS shares,
  (SELECT coalesce(json_agg(d ORDER BY d.received_at, d.node_id), '[]'::json) FROM (
     SELECT request_id, node_id, verdict, source, policy_hash, rule, reason, decided_at, signature, proposed_at, awaiting_since, received_at
     FROM request_decisions WHERE request_id = $1) d) AS decisions,
  (SELECT coalesce(json_agg(p), '[]'::json) FROM (
     SELECT p.node_id, p.instance_id, p.connection_id, p.since
     FROM node_presence p JOIN coordinator_instances i ON i.id = p.instance_id
     WHERE p.node_id = ANY($2::uuid[]) AND i.heartbeat_at > $3) p) AS presence,
  (SELECT coalesce(json_agg(q), '[]'::json) FROM (
     SELECT node_id, connection_id FROM request_asks WHERE request_id = $1) q) AS asked`;

export class TypeOrmRequestStateRepository implements RequestStateRepository {
  constructor(private readonly manager: EntityManager) {}

  async load(requestId: string, memberIds: readonly string[], liveSince: Date): Promise<RequestEventReads> {
    if (!isUuid(requestId)) return { attempts: [], commitments: [], shares: [], decisions: [], presence: [], asked: [] };
    const [row] = await this.manager.query<Row[]>(LOAD, [requestId, memberIds, liveSince]);
    return {
      attempts: parsed(row!.attempts).map(
        (a): AttemptRecord => ({
          id: a.id,
          requestId: a.request_id,
          seq: a.seq,
          status: a.status,
          participants: a.participants,
          commitments: a.commitments,
          deadline: date(a.deadline),
          startedAt: date(a.started_at),
          endedAt: dateOrNull(a.ended_at),
          failureReason: a.failure_reason,
        }),
      ),
      commitments: parsed(row!.commitments).map(
        (c): CommitmentRecord => ({
          id: c.id,
          keyId: c.key_id,
          requestId: c.request_id,
          nodeId: c.node_id,
          identifier: c.identifier,
          hiding: c.hiding,
          binding: c.binding,
          status: c.status,
          attemptId: c.attempt_id,
          receivedAt: date(c.received_at),
        }),
      ),
      shares: parsed(row!.shares).map(
        (s): ShareRecord => ({
          attemptId: s.attempt_id,
          requestId: s.request_id,
          nodeId: s.node_id,
          identifier: s.identifier,
          share: s.share,
          valid: s.valid,
          receivedAt: date(s.received_at),
        }),
      ),
      decisions: parsed(row!.decisions).map(
        (d): DecisionRecord => ({
          requestId: d.request_id,
          nodeId: d.node_id,
          verdict: d.verdict,
          by: d.source,
          policyHash: d.policy_hash,
          rule: d.rule,
          reason: d.reason,
          decidedAt: dateOrNull(d.decided_at),
          signature: d.signature,
          proposedAt: dateOrNull(d.proposed_at),
          awaitingSince: dateOrNull(d.awaiting_since),
          receivedAt: date(d.received_at),
        }),
      ),
      presence: parsed(row!.presence).map((p): PresenceRecord => ({ nodeId: p.node_id, instanceId: p.instance_id, connectionId: p.connection_id, since: date(p.since) })),
      asked: parsed(row!.asked).map((q) => ({ nodeId: q.node_id, connectionId: q.connection_id })),
    };
  }
}
