import type { EntityManager } from 'typeorm';
import type { ShareRecord, ShareRepository } from '#domain';
import { SignatureShareEntity } from '../entities/signature-share.entity.js';
import { expectOneRow, isUuid } from './repository-support.js';

export class TypeOrmShareRepository implements ShareRepository {
  constructor(private readonly manager: EntityManager) {}

  /** ON CONFLICT DO NOTHING on the (attempt_id, node_id) key: a duplicate does not abort the transaction. */
  async insertOrGet(share: ShareRecord): Promise<{ inserted: boolean; existing: ShareRecord | null }> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(SignatureShareEntity)
      .values(share)
      .orIgnore()
      .returning(['attemptId'])
      .execute();
    // RETURNING yields the row only when it was inserted.
    if ((result.raw as unknown[]).length > 0) return { inserted: true, existing: null };
    const existing = await this.manager.findOneBy(SignatureShareEntity, { attemptId: share.attemptId, nodeId: share.nodeId });
    return { inserted: false, existing };
  }

  /** In arrival order. */
  async listForAttempt(requestId: string, attemptId: string): Promise<ShareRecord[]> {
    if (!isUuid(requestId) || !isUuid(attemptId)) return [];
    return this.manager.find(SignatureShareEntity, { where: { requestId, attemptId }, order: { receivedAt: 'ASC', nodeId: 'ASC' } });
  }

  async setValidity(requestId: string, attemptId: string, nodeId: string, valid: boolean): Promise<void> {
    const result = await this.manager.update(SignatureShareEntity, { requestId, attemptId, nodeId }, { valid });
    expectOneRow(result, `share of node ${nodeId} in attempt ${attemptId}`);
  }
}
