import { In, type EntityManager } from 'typeorm';
import { CommitmentReusedError, type CommitmentRecord, type CommitmentRepository } from '#domain';
import { CommitmentEntity } from '../entities/commitment.entity.js';
import { NONCE_ELEMENT_REUSE_CONSTRAINT, NonceElementEntity } from '../entities/nonce-element.entity.js';
import { isUuid, mapUniqueViolations } from './repository-support.js';

const LIVE = In(['ready', 'assigned']);

export class TypeOrmCommitmentRepository implements CommitmentRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The commitment and both of its elements, in a savepoint (or its own transaction), so that a refused
   * commitment leaves the caller's transaction usable. The primary key of nonce_elements (key, element)
   * decides reuse, whichever position the element had before.
   */
  async insert(commitment: CommitmentRecord): Promise<void> {
    await mapUniqueViolations(
      () =>
        this.manager.transaction(async (manager) => {
          await manager.insert(CommitmentEntity, commitment);
          await manager.insert(NonceElementEntity, [
            { keyId: commitment.keyId, element: commitment.hiding, commitmentId: commitment.id },
            { keyId: commitment.keyId, element: commitment.binding, commitmentId: commitment.id },
          ]);
        }),
      { [NONCE_ELEMENT_REUSE_CONSTRAINT]: () => new CommitmentReusedError() },
    );
  }

  /** Oldest first. */
  async listLiveForRequest(requestId: string): Promise<CommitmentRecord[]> {
    if (!isUuid(requestId)) return [];
    return this.manager.find(CommitmentEntity, { where: { requestId, status: LIVE }, order: { receivedAt: 'ASC', id: 'ASC' } });
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
