import { In, type EntityManager } from 'typeorm';
import { proposedFields, type DecisionRecord, type DecisionRepository } from '#domain';
import { RequestDecisionEntity } from '../entities/request-decision.entity.js';
import { isUuid } from './repository-support.js';

export class TypeOrmDecisionRepository implements DecisionRepository {
  constructor(private readonly manager: EntityManager) {}

  async listForRequests(requestIds: readonly string[]): Promise<DecisionRecord[]> {
    const ids = requestIds.filter(isUuid);
    if (ids.length === 0) return [];
    return this.manager.find(RequestDecisionEntity, { where: { requestId: In(ids) }, order: { requestId: 'ASC', receivedAt: 'ASC', nodeId: 'ASC' } });
  }

  /** One statement (INSERT ... ON CONFLICT DO UPDATE); the caller holds the request's row lock. */
  async save(record: DecisionRecord): Promise<void> {
    await this.manager.upsert(RequestDecisionEntity, record, ['requestId', 'nodeId']);
  }

  /** One statement; rows that exist (a node proposed again, or one that already answered) are left as they are. */
  async markProposed(requestId: string, nodeIds: readonly string[], at: Date): Promise<void> {
    if (nodeIds.length === 0) return;
    const rows = nodeIds.map((nodeId) => ({ requestId, ...proposedFields(nodeId, at) }));
    await this.manager.createQueryBuilder().insert().into(RequestDecisionEntity).values(rows).orIgnore().execute();
  }
}
