import type { EntityManager } from 'typeorm';
import { DomainError, type PrincipalRecord, type PrincipalRepository } from '#domain';
import { PrincipalEntity } from '../entities/principal.entity.js';
import { expectOneRow, isUuid, mapUniqueViolations } from './repository-support.js';

export class TypeOrmPrincipalRepository implements PrincipalRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(principal: PrincipalRecord): Promise<void> {
    await mapUniqueViolations(() => this.manager.insert(PrincipalEntity, principal), {
      principals_name_key: () =>
        new DomainError('PRINCIPAL_ALREADY_EXISTS', `a principal named ${JSON.stringify(principal.name)} already exists`, { name: principal.name }),
    });
  }

  async findById(id: string): Promise<PrincipalRecord | null> {
    return isUuid(id) ? this.manager.findOneBy(PrincipalEntity, { id }) : null;
  }

  findByName(name: string): Promise<PrincipalRecord | null> {
    return this.manager.findOneBy(PrincipalEntity, { name });
  }

  findByApiKeyHash(apiKeyHash: string): Promise<PrincipalRecord | null> {
    return this.manager.findOneBy(PrincipalEntity, { apiKeyHash });
  }

  list(): Promise<PrincipalRecord[]> {
    return this.manager.find(PrincipalEntity, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async revoke(id: string, at: Date): Promise<void> {
    expectOneRow(await this.manager.update(PrincipalEntity, { id }, { revokedAt: at }), `principal ${id}`);
  }
}
