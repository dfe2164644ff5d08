import { In, type EntityManager } from 'typeorm';
import { DomainError, type NodeRecord, type NodeRepository } from '#domain';
import { NodeEntity } from '../entities/node.entity.js';
import { expectOneRow, isUuid, mapUniqueViolations } from './repository-support.js';

export class TypeOrmNodeRepository implements NodeRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(node: NodeRecord): Promise<void> {
    await mapUniqueViolations(() => this.manager.insert(NodeEntity, node), {
      nodes_public_key_key: () => new DomainError('NODE_ALREADY_ENROLLED', 'a node with this public key is already enrolled'),
    });
  }

  async findById(id: string): Promise<NodeRecord | null> {
    return isUuid(id) ? this.manager.findOneBy(NodeEntity, { id }) : null;
  }

  findByPublicKey(publicKey: string): Promise<NodeRecord | null> {
    return this.manager.findOneBy(NodeEntity, { publicKey });
  }

  async listByIds(ids: readonly string[]): Promise<NodeRecord[]> {
    const wanted = [...new Set(ids.filter(isUuid))];
    return wanted.length === 0 ? [] : this.manager.find(NodeEntity, { where: { id: In(wanted) } });
  }

  list(): Promise<NodeRecord[]> {
    return this.manager.find(NodeEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async revoke(id: string, at: Date): Promise<void> {
    expectOneRow(await this.manager.update(NodeEntity, { id }, { status: 'revoked', revokedAt: at }), `node ${id}`);
  }

  async restore(id: string): Promise<void> {
    expectOneRow(await this.manager.update(NodeEntity, { id }, { status: 'active', revokedAt: null }), `node ${id}`);
  }

  async touch(id: string, at: Date): Promise<void> {
    expectOneRow(await this.manager.update(NodeEntity, { id }, { lastSeenAt: at }), `node ${id}`);
  }

  /** Needs the caller's transaction: TypeORM refuses a pessimistic lock outside one. */
  async reportPolicy(id: string, policyHash: string, at: Date): Promise<{ previous: string | null }> {
    const row = await this.manager.findOne(NodeEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!row) throw new Error(`node ${id} not found`);
    expectOneRow(await this.manager.update(NodeEntity, { id }, { policyHash, policyReportedAt: at }), `node ${id}`);
    return { previous: row.policyHash };
  }
}
