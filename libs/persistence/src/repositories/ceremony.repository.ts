import { In, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { CeremonyRecord, CeremonyRepository, CeremonyResultRecord, CeremonyShareRecord, CeremonyStatus } from '#domain';
import { CeremonyEntity, CeremonyResultEntity, CeremonyRound2Entity, OPEN_CEREMONY_STATUSES } from '../entities/ceremony.entity.js';
import { expectOneRow, isUuid } from './repository-support.js';

type CeremonyPatch = Partial<Omit<CeremonyRecord, 'id' | 'keyId' | 'createdAt'>>;

export class TypeOrmCeremonyRepository implements CeremonyRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(ceremony: CeremonyRecord): Promise<void> {
    await this.manager.insert(CeremonyEntity, ceremony);
  }

  async findById(id: string): Promise<CeremonyRecord | null> {
    return isUuid(id) ? this.manager.findOneBy(CeremonyEntity, { id }) : null;
  }

  async update(id: string, patch: CeremonyPatch): Promise<void> {
    // Fields present but undefined are left alone, as if absent.
    const values = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as CeremonyPatch;
    if (Object.keys(values).length === 0) return;
    expectOneRow(await this.manager.update(CeremonyEntity, { id }, values), `ceremony ${id}`);
  }

  listOpen(): Promise<CeremonyRecord[]> {
    return this.manager.find(CeremonyEntity, {
      where: { status: In([...OPEN_CEREMONY_STATUSES]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  list(filter: { status?: CeremonyStatus; limit: number; offset: number }): Promise<CeremonyRecord[]> {
    const where: FindOptionsWhere<CeremonyRecord> = {};
    if (filter.status !== undefined) where.status = filter.status;
    return this.manager.find(CeremonyEntity, { where, order: { createdAt: 'DESC', id: 'DESC' }, take: filter.limit, skip: filter.offset });
  }

  async insertShares(shares: CeremonyShareRecord[]): Promise<void> {
    if (shares.length > 0) await this.manager.insert(CeremonyRound2Entity, shares);
  }

  async listShares(ceremonyId: string): Promise<CeremonyShareRecord[]> {
    if (!isUuid(ceremonyId)) return [];
    return this.manager.find(CeremonyRound2Entity, { where: { ceremonyId }, order: { fromIdentifier: 'ASC', toIdentifier: 'ASC' } });
  }

  async insertResult(result: CeremonyResultRecord): Promise<void> {
    await this.manager.insert(CeremonyResultEntity, result);
  }

  async listResults(ceremonyId: string): Promise<CeremonyResultRecord[]> {
    if (!isUuid(ceremonyId)) return [];
    return this.manager.find(CeremonyResultEntity, { where: { ceremonyId }, order: { receivedAt: 'ASC', nodeId: 'ASC' } });
  }

  /** One query for a whole page; reads neither the sealed shares nor the transcript hashes. */
  async listRound2Senders(ceremonyIds: readonly string[]): Promise<{ ceremonyId: string; fromIdentifier: string }[]> {
    const wanted = [...new Set(ceremonyIds.filter(isUuid))];
    if (wanted.length === 0) return [];
    return this.manager
      .createQueryBuilder(CeremonyRound2Entity, 'share')
      .select('share.ceremonyId', 'ceremonyId')
      .addSelect('share.fromIdentifier', 'fromIdentifier')
      .distinct(true)
      .where('share.ceremonyId IN (:...wanted)', { wanted })
      .orderBy('"ceremonyId"', 'ASC')
      .addOrderBy('"fromIdentifier"', 'ASC')
      .getRawMany<{ ceremonyId: string; fromIdentifier: string }>();
  }

  /** One query for a whole page; reads node ids only, not the results. */
  async listResultSenders(ceremonyIds: readonly string[]): Promise<{ ceremonyId: string; nodeId: string }[]> {
    const wanted = [...new Set(ceremonyIds.filter(isUuid))];
    if (wanted.length === 0) return [];
    const rows = await this.manager.find(CeremonyResultEntity, {
      select: { ceremonyId: true, nodeId: true },
      where: { ceremonyId: In(wanted) },
      order: { ceremonyId: 'ASC', receivedAt: 'ASC', nodeId: 'ASC' },
    });
    return rows.map(({ ceremonyId, nodeId }) => ({ ceremonyId, nodeId }));
  }
}
