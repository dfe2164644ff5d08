import { In, type EntityManager } from 'typeorm';
import type { AttemptRecord, AttemptRepository, AttemptStatus } from '#domain';
import { SigningAttemptEntity } from '../entities/signing-attempt.entity.js';
import { expectOneRow, isUuid } from './repository-support.js';

export class TypeOrmAttemptRepository implements AttemptRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(attempt: AttemptRecord): Promise<void> {
    await this.manager.insert(SigningAttemptEntity, attempt);
  }

  async findById(requestId: string, attemptId: string): Promise<AttemptRecord | null> {
    if (!isUuid(requestId) || !isUuid(attemptId)) return null;
    return this.manager.findOneBy(SigningAttemptEntity, { requestId, id: attemptId });
  }

  async findByIdAnyRequest(attemptId: string): Promise<AttemptRecord | null> {
    return isUuid(attemptId) ? this.manager.findOneBy(SigningAttemptEntity, { id: attemptId }) : null;
  }

  /** In seq order. */
  async listForRequest(requestId: string): Promise<AttemptRecord[]> {
    if (!isUuid(requestId)) return [];
    return this.manager.find(SigningAttemptEntity, { where: { requestId }, order: { seq: 'ASC' } });
  }

  /** By request, then seq: one query for a whole page of requests. */
  async listForRequests(requestIds: readonly string[]): Promise<AttemptRecord[]> {
    const wanted = [...new Set(requestIds.filter(isUuid))];
    if (wanted.length === 0) return [];
    return this.manager.find(SigningAttemptEntity, { where: { requestId: In(wanted) }, order: { requestId: 'ASC', seq: 'ASC' } });
  }

  async update(
    requestId: string,
    attemptId: string,
    patch: { status: AttemptStatus; endedAt: Date; failureReason?: string | null },
  ): Promise<void> {
    const values: Partial<AttemptRecord> = { status: patch.status, endedAt: patch.endedAt };
    if (patch.failureReason !== undefined) values.failureReason = patch.failureReason;
    const result = await this.manager.update(SigningAttemptEntity, { requestId, id: attemptId }, values);
    expectOneRow(result, `attempt ${attemptId} of request ${requestId}`);
  }
}
