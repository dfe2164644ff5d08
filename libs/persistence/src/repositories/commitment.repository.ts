import { In, type EntityManager } from 'typeorm';
import { CommitmentReusedError, type CommitmentRecord, type CommitmentRepository } from '#domain';
import { COMMITMENT_REUSE_CONSTRAINTS, CommitmentEntity } from '../entities/commitment.entity.js';
import { databaseErrorOf, isUuid, UNIQUE_VIOLATION } from './repository-support.js';

const LIVE = In(['ready', 'assigned']);

export class TypeOrmCommitmentRepository implements CommitmentRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The unique constraints on (key_id, hiding) and (key_id, binding) decide reuse. The insert runs in
   * a savepoint (or its own transaction), so a refused commitment leaves the caller's transaction usable.
   */
  async insert(commitment: CommitmentRecord): Promise<void> {
    try {
      await this.manager.transaction((manager) => manager.insert(CommitmentEntity, commitment));
    } catch (error) {
      const { code, constraint } = databaseErrorOf(error);
      if (code === UNIQUE_VIOLATION && constraint !== undefined && COMMITMENT_REUSE_CONSTRAINTS.has(constraint)) {
        throw new CommitmentReusedError();
      }
      throw error;
    }
  }

  /** Oldest first. */
  async listReady(requestId: string): Promise<CommitmentRecord[]> {
    if (!isUuid(requestId)) return [];
    return this.manager.find(CommitmentEntity, { where: { requestId, status: 'ready' }, order: { receivedAt: 'ASC', id: 'ASC' } });
  }

  async listLiveForNode(requestId: string, nodeId: string): Promise<CommitmentRecord[]> {
    if (!isUuid(requestId) || !isUuid(nodeId)) return [];
    return this.manager.find(CommitmentEntity, { where: { requestId, nodeId, status: LIVE }, order: { receivedAt: 'ASC', id: 'ASC' } });
  }

  /** Every id must name a ready commitment of the request; otherwise nothing is assigned and it throws. */
  async assign(requestId: string, ids: string[], attemptId: string): Promise<void> {
    if (ids.length === 0) return;
    const result = await this.manager.update(
      CommitmentEntity,
      { requestId, id: In(ids), status: 'ready' },
      { status: 'assigned', attemptId },
    );
    // Thrown inside the caller's transaction, this rolls the partial assignment back with it.
    if (result.affected !== ids.length) {
      throw new Error(`assigned ${result.affected ?? 0} of ${ids.length} commitments to attempt ${attemptId}: some were not ready`);
    }
  }

  async markUsed(requestId: string, attemptId: string, nodeId: string): Promise<void> {
    await this.manager.update(CommitmentEntity, { requestId, attemptId, nodeId, status: 'assigned' }, { status: 'used' });
  }

  async burnForAttempt(requestId: string, attemptId: string): Promise<number> {
    const result = await this.manager.update(CommitmentEntity, { requestId, attemptId, status: LIVE }, { status: 'burned' });
    return result.affected ?? 0;
  }

  async burnForRequest(requestId: string, nodeId?: string): Promise<number> {
    const where = nodeId === undefined ? { requestId, status: LIVE } : { requestId, nodeId, status: LIVE };
    const result = await this.manager.update(CommitmentEntity, where, { status: 'burned' });
    return result.affected ?? 0;
  }
}
