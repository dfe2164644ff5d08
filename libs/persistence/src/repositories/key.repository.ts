import { In, type EntityManager } from 'typeorm';
import { DomainError, type KeyRecord, type KeyRepository, type KeyStatus } from '#domain';
import { KeyEntity, KeyMemberEntity, type KeyRow } from '../entities/key.entity.js';
import { expectOneRow, inTransaction, isUuid, mapUniqueViolations } from './repository-support.js';

export class TypeOrmKeyRepository implements KeyRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(key: KeyRecord): Promise<void> {
    const { members, ...row } = key;
    await mapUniqueViolations(
      () =>
        inTransaction(this.manager, async (manager) => {
          await manager.insert(KeyEntity, row);
          if (members.length > 0) await manager.insert(KeyMemberEntity, members.map((m) => ({ ...m, keyId: key.id })));
        }),
      { keys_pkey: () => new DomainError('KEY_ALREADY_EXISTS', `key ${key.id} already exists`) },
    );
  }

  async findById(id: string): Promise<KeyRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.manager.findOneBy(KeyEntity, { id });
    return row ? ((await this.withMembers([row]))[0] ?? null) : null;
  }

  async findByIds(ids: readonly string[]): Promise<KeyRecord[]> {
    const wanted = [...new Set(ids.filter(isUuid))];
    if (wanted.length === 0) return [];
    return this.withMembers(await this.manager.find(KeyEntity, { where: { id: In(wanted) }, order: { createdAt: 'ASC', id: 'ASC' } }));
  }

  async list(): Promise<KeyRecord[]> {
    return this.withMembers(await this.manager.find(KeyEntity, { order: { createdAt: 'ASC', id: 'ASC' } }));
  }

  async listActiveForNode(nodeId: string): Promise<KeyRecord[]> {
    if (!isUuid(nodeId)) return [];
    const rows = await this.manager
      .createQueryBuilder(KeyEntity, 'key')
      .where('key.status = :status', { status: 'active' })
      .andWhere('EXISTS (SELECT 1 FROM key_members m WHERE m.key_id = key.id AND m.node_id = :nodeId)', { nodeId })
      .orderBy('key.createdAt', 'ASC')
      .addOrderBy('key.id', 'ASC')
      .getMany();
    return this.withMembers(rows);
  }

  async setStatus(id: string, status: KeyStatus): Promise<void> {
    expectOneRow(await this.manager.update(KeyEntity, { id }, { status }), `key ${id}`);
  }

  /** Members are returned in identifier order (their hex text). */
  private async withMembers(rows: KeyRow[]): Promise<KeyRecord[]> {
    if (rows.length === 0) return [];
    const members = await this.manager.find(KeyMemberEntity, {
      where: { keyId: In(rows.map((r) => r.id)) },
      order: { identifier: 'ASC' },
    });
    return rows.map((row) => ({
      ...row,
      members: members
        .filter((m) => m.keyId === row.id)
        .map(({ nodeId, identifier, verifyingShare }) => ({ nodeId, identifier, verifyingShare })),
    }));
  }
}
