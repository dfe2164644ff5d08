import { In, type EntityManager } from 'typeorm';
import { CommitmentReusedError, type CommitmentRecord, type CommitmentRepository } from '#domain';
import { CommitmentEntity } from '../entities/commitment.entity.js';
import { NONCE_ELEMENT_REUSE_CONSTRAINT } from '../entities/nonce-element.entity.js';

const LIVE = In(['ready', 'assigned']);

export class TypeOrmCommitmentRepository implements CommitmentRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The commitment and both of its elements in one statement. The primary key of nonce_elements (key,
   * element) decides reuse, whichever position the element had before: an element already there (or
   * being inserted by a concurrent transaction that then commits) is skipped (ON CONFLICT DO NOTHING),
   * and fewer than two new elements means reuse: the rows this call wrote are deleted again and
   * CommitmentReusedError leaves the caller's transaction usable. No savepoint on the common path.
   */
  async insert(commitment: CommitmentRecord): Promise<void> {
    if (commitment.hiding === commitment.binding) throw new CommitmentReusedError();
    const c = commitment;
    const rows: { inserted: string | number }[] = await this.manager.query(
      `WITH c AS (
         INSERT INTO commitments (id, key_id, request_id, node_id, identifier, hiding, binding, status, attempt_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
       ), e AS (
         INSERT INTO nonce_elements (key_id, element, commitment_id)
         SELECT $2, x.element, c.id FROM c CROSS JOIN (VALUES ($6), ($7)) AS x(element)
         ON CONFLICT ON CONSTRAINT ${NONCE_ELEMENT_REUSE_CONSTRAINT} DO NOTHING RETURNING element
       )
       SELECT count(*) AS inserted FROM e`,
      [c.id, c.keyId, c.requestId, c.nodeId, c.identifier, c.hiding, c.binding, c.status, c.attemptId, c.receivedAt],
    );
    if (Number(rows[0]?.inserted) === 2) return;
    await this.manager.query(`DELETE FROM nonce_elements WHERE commitment_id = $1`, [c.id]);
    await this.manager.query(`DELETE FROM commitments WHERE id = $1`, [c.id]);
    throw new CommitmentReusedError();
  }

  async assign(requestId: string, ids: string[], attemptId: string): Promise<void> {
    if (ids.length === 0) return;
    const result = await this.manager.update(CommitmentEntity, { requestId, id: In(ids), status: 'ready' }, { status: 'assigned', attemptId });
    // Thrown inside the caller's transaction, this rolls the partial assignment back with it.
    if (result.affected !== ids.length) {
      throw new Error(`assigned ${result.affected ?? 0} of ${ids.length} commitments to attempt ${attemptId}: some were not ready`);
    }
  }

  async markUsed(requestId: string, attemptId: string, nodeId: string): Promise<void> {
    await this.manager.update(CommitmentEntity, { requestId, attemptId, nodeId, status: 'assigned' }, { status: 'used' });
  }

  async burnForRequest(requestId: string, nodeId?: string): Promise<number> {
    const where = nodeId === undefined ? { requestId, status: LIVE } : { requestId, nodeId, status: LIVE };
    const result = await this.manager.update(CommitmentEntity, where, { status: 'burned' });
    return result.affected ?? 0;
  }

  /** Through the open-requests index and commitments (request_id, status): no scan of old commitments. */
  async countReady(): Promise<number> {
    const rows: { n: string | number }[] = await this.manager.query(
      `SELECT count(*) AS n FROM commitments c JOIN signing_requests r ON r.id = c.request_id
       WHERE r.status IN ('pending', 'committing', 'signing') AND c.status = 'ready'`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
