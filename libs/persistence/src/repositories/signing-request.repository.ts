import { In, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { DomainError, type RequestStatus, type SigningRequestRecord, type SigningRequestRepository } from '#domain';
import { OPEN_REQUEST_STATUSES, SigningRequestEntity } from '../entities/signing-request.entity.js';
import { expectOneRow, isUuid, mapUniqueViolations } from './repository-support.js';

type RequestPatch = Partial<Omit<SigningRequestRecord, 'id' | 'keyId' | 'createdAt'>>;

export class TypeOrmSigningRequestRepository implements SigningRequestRepository {
  constructor(private readonly manager: EntityManager) {}

  /** A second request with the same idempotency key (a concurrent retry, say) is IDEMPOTENCY_CONFLICT. */
  async insert(request: SigningRequestRecord): Promise<void> {
    await mapUniqueViolations(() => this.manager.insert(SigningRequestEntity, request), {
      signing_requests_idempotency_key_key: () => new DomainError('IDEMPOTENCY_CONFLICT', 'idempotency key already used'),
    });
  }

  async findById(id: string): Promise<SigningRequestRecord | null> {
    return isUuid(id) ? this.manager.findOneBy(SigningRequestEntity, { id }) : null;
  }

  /** Needs the caller's transaction: TypeORM refuses a pessimistic lock outside one. */
  async findByIdForUpdate(id: string): Promise<SigningRequestRecord | null> {
    if (!isUuid(id)) return null;
    return this.manager.findOne(SigningRequestEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  findByIdempotencyKey(idempotencyKey: string): Promise<SigningRequestRecord | null> {
    return this.manager.findOneBy(SigningRequestEntity, { idempotencyKey });
  }

  async update(id: string, patch: RequestPatch): Promise<void> {
    // Fields present but undefined are left alone, as if absent.
    const values = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as RequestPatch;
    if (Object.keys(values).length === 0) return;
    expectOneRow(await this.manager.update(SigningRequestEntity, { id }, values), `signing request ${id}`);
  }

  listOpen(): Promise<SigningRequestRecord[]> {
    return this.manager.find(SigningRequestEntity, {
      where: { status: In([...OPEN_REQUEST_STATUSES]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** Newest first. */
  async list(filter: { status?: RequestStatus; keyId?: string; limit: number; offset: number }): Promise<SigningRequestRecord[]> {
    if (filter.keyId !== undefined && !isUuid(filter.keyId)) return [];
    const where: FindOptionsWhere<SigningRequestRecord> = {};
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.keyId !== undefined) where.keyId = filter.keyId;
    return this.manager.find(SigningRequestEntity, {
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
      take: filter.limit,
      skip: filter.offset,
    });
  }
}
