import type { EntityManager, FindOptionsWhere, QueryDeepPartialEntity } from 'typeorm';
import { In } from 'typeorm';
import { AgentAuthorization, Grant } from '#protocol';
import {
  proposedFields,
  DomainError,
  type GrantDecisionRecord,
  type GrantNonceRecord,
  type GrantRecord,
  type GrantRepository,
  type GrantStatus,
  type SigningRequestRecord,
} from '#domain';
import { GrantDecisionEntity, GrantEntity, GrantNonceEntity, type GrantNonceRow, type GrantRow } from '../entities/grant.entity.js';
import { SigningRequestEntity } from '../entities/signing-request.entity.js';
import { expectOneRow, isUuid, mapUniqueViolations } from './repository-support.js';
import { signingRequestRecordOf } from './signing-request.repository.js';

type GrantPatch = Partial<Pick<GrantRecord, 'status' | 'activatedAt' | 'revokedAt' | 'revokedBy' | 'revokeReason'>>;

/** jsonb keeps no key order: the grant is parsed again (a row must not hand the domain a grant the protocol would refuse). */
function toRecord(row: GrantRow): GrantRecord {
  const parsed = Grant.safeParse(row.grant);
  if (!parsed.success) throw new Error(`grant ${row.id}: its stored grant is not valid: ${parsed.error.message}`);
  return { ...row, grant: parsed.data };
}

function toNonceRecord(row: GrantNonceRow): GrantNonceRecord {
  const parsed = AgentAuthorization.safeParse(row.authorization);
  if (!parsed.success) throw new Error(`grant ${row.grantId} nonce ${row.nonce}: its stored authorization is not valid`);
  return { ...row, authorization: parsed.data };
}

export class TypeOrmGrantRepository implements GrantRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(grant: GrantRecord): Promise<void> {
    await this.manager.insert(GrantEntity, grant);
  }

  async findById(id: string): Promise<GrantRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.manager.findOneBy(GrantEntity, { id });
    return row ? toRecord(row) : null;
  }

  /** Needs the caller's transaction: TypeORM refuses a pessimistic lock outside one. */
  async findByIdForUpdate(id: string): Promise<GrantRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.manager.findOne(GrantEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
    return row ? toRecord(row) : null;
  }

  async list(filter: { status?: GrantStatus; keyId?: string; proposer?: string; limit: number; offset: number }): Promise<GrantRecord[]> {
    if (filter.keyId !== undefined && !isUuid(filter.keyId)) return [];
    const where: FindOptionsWhere<GrantRow> = {};
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.keyId !== undefined) where.keyId = filter.keyId;
    if (filter.proposer !== undefined) where.proposer = filter.proposer;
    const rows = await this.manager.find(GrantEntity, { where, order: { createdAt: 'DESC', id: 'DESC' }, take: filter.limit, skip: filter.offset });
    return rows.map(toRecord);
  }

  async update(id: string, patch: GrantPatch): Promise<void> {
    const values = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as GrantPatch;
    if (Object.keys(values).length === 0) return;
    expectOneRow(await this.manager.update(GrantEntity, { id }, values), `grant ${id}`);
  }

  async findDecision(grantId: string, nodeId: string): Promise<GrantDecisionRecord | null> {
    if (!isUuid(grantId) || !isUuid(nodeId)) return null;
    return this.manager.findOne(GrantDecisionEntity, { where: { grantId, nodeId } });
  }

  async listDecisions(grantIds: readonly string[]): Promise<GrantDecisionRecord[]> {
    const ids = grantIds.filter(isUuid);
    if (ids.length === 0) return [];
    return this.manager.find(GrantDecisionEntity, { where: { grantId: In(ids) }, order: { grantId: 'ASC', receivedAt: 'ASC', nodeId: 'ASC' } });
  }

  async saveDecision(record: GrantDecisionRecord): Promise<void> {
    await this.manager.upsert(GrantDecisionEntity, record, ['grantId', 'nodeId']);
  }

  async markProposed(grantId: string, nodeIds: readonly string[], at: Date): Promise<void> {
    if (nodeIds.length === 0) return;
    const rows = nodeIds.map((nodeId) => ({ grantId, ...proposedFields(nodeId, at) }));
    await this.manager.createQueryBuilder().insert().into(GrantDecisionEntity).values(rows).orIgnore().execute();
  }

  /** The primary key (grant, nonce) decides between concurrent requests replaying one nonce. */
  async insertNonce(record: GrantNonceRecord): Promise<void> {
    await mapUniqueViolations(() => this.manager.insert(GrantNonceEntity, record as unknown as QueryDeepPartialEntity<GrantNonceRow>), {
      grant_nonces_pkey: () => new DomainError('AGENT_REQUEST_REPLAYED', `nonce ${record.nonce} was already used under grant ${record.grantId}`, { nonce: record.nonce }),
    });
  }

  async findNonce(grantId: string, nonce: string): Promise<GrantNonceRecord | null> {
    if (!isUuid(grantId)) return null;
    const row = await this.manager.findOneBy(GrantNonceEntity, { grantId, nonce });
    return row ? toNonceRecord(row) : null;
  }

  async findNonceForRequest(requestId: string): Promise<GrantNonceRecord | null> {
    if (!isUuid(requestId)) return null;
    const row = await this.manager.findOneBy(GrantNonceEntity, { requestId });
    return row ? toNonceRecord(row) : null;
  }

  async listRequests(grantId: string): Promise<SigningRequestRecord[]> {
    if (!isUuid(grantId)) return [];
    const rows = await this.manager.find(SigningRequestEntity, { where: { grantId }, order: { createdAt: 'DESC', id: 'DESC' } });
    return rows.map(signingRequestRecordOf);
  }
}
