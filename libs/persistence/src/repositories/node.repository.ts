import type { EntityManager } from 'typeorm';
import type { NodeRecord, NodeRepository } from '#domain';
import { NodeEntity } from '../entities/node.entity.js';
import { expectOneRow, isUuid } from './repository-support.js';

export class TypeOrmNodeRepository implements NodeRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(node: NodeRecord): Promise<void> {
    await this.manager.insert(NodeEntity, node);
  }

  async findById(id: string): Promise<NodeRecord | null> {
    return isUuid(id) ? this.manager.findOneBy(NodeEntity, { id }) : null;
  }

  findByPublicKey(publicKey: string): Promise<NodeRecord | null> {
    return this.manager.findOneBy(NodeEntity, { publicKey });
  }

  list(): Promise<NodeRecord[]> {
    return this.manager.find(NodeEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async revoke(id: string, at: Date): Promise<void> {
    expectOneRow(await this.manager.update(NodeEntity, { id }, { status: 'revoked', revokedAt: at }), `node ${id}`);
  }

  async touch(id: string, at: Date): Promise<void> {
    expectOneRow(await this.manager.update(NodeEntity, { id }, { lastSeenAt: at }), `node ${id}`);
  }
}
