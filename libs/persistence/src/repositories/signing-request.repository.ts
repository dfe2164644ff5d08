import { In, type EntityManager, type FindOptionsWhere, type QueryDeepPartialEntity } from 'typeorm';
import { Intent } from '#protocol';
import { DomainError, type RequestStatus, type SigningRequestPatch, type SigningRequestRecord, type SigningRequestRepository } from '#domain';
import { OPEN_REQUEST_STATUSES, SigningRequestEntity, type SigningRequestRow } from '../entities/signing-request.entity.js';
import { expectOneRow, isUuid, mapUniqueViolations } from './repository-support.js';

/** The intent's fields the table repeats as columns (replay keys, filters). */
const intentColumns = (intent: Intent): Pick<SigningRequestRow, 'chainId' | 'sequence' | 'note' | 'payloadKind'> => ({
  chainId: intent.chainId,
  sequence: intent.sequence,
  note: intent.note,
  payloadKind: intent.payload.kind,
});

/** A cast: the intent is free-form JSON to TypeORM, whose deep-partial write type cannot express it. */
const writable = (values: Partial<SigningRequestRow>) => values as QueryDeepPartialEntity<SigningRequestRow>;

const toRow = (request: SigningRequestRecord): SigningRequestRow => ({ ...request, ...intentColumns(request.intent) });

/**
 * A row as a record. The intent is parsed again with its schema (jsonb keeps no key order, and a row
 * must not hand the domain an intent the protocol would refuse); its hash is the stored one, which
 * `intentHash` recomputes identically since canonical JSON sorts keys.
 */
function toRecord(row: SigningRequestRow): SigningRequestRecord {
  const { chainId: _c, sequence: _s, note: _n, payloadKind: _p, wakeAt: _w, ...fields } = row;
  return recordOf(fields);
}

/** The record's own fields of a row (not the intent's repeated columns), the intent parsed again. */
type RecordFields = Omit<SigningRequestRow, 'chainId' | 'sequence' | 'note' | 'payloadKind' | 'wakeAt'>;

function recordOf(fields: RecordFields): SigningRequestRecord {
  const { intent, grantId, ...rest } = fields;
  const parsed = Intent.safeParse(intent);
  if (!parsed.success) throw new Error(`signing request ${fields.id}: its stored intent is not valid: ${parsed.error.message}`);
  // `grantId` only on a request made under a grant (migration 0008).
  return { ...rest, ...(grantId ? { grantId } : {}), intent: parsed.data };
}

/** The columns a record is made of (not the intent's repeated ones, nor wake_at). */
const REQUEST_COLUMNS = [
  'id', 'key_id', 'message', 'message_encoding', 'description', 'status', 'deadline', 'idempotency_key', 'request_hash', 'created_by',
  'created_at', 'updated_at', 'completed_at', 'signature', 'failure_code', 'failure_reason', 'culprits', 'attempt_count',
  'blameless_refusals', 'intent', 'intent_hash', 'proposer', 'grant_id',
].join(', ');

interface RawRequestRow {
  id: string;
  key_id: string;
  message: string;
  message_encoding: SigningRequestRecord['messageEncoding'];
  description: string;
  status: RequestStatus;
  deadline: Date;
  idempotency_key: string | null;
  request_hash: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  signature: string | null;
  failure_code: string | null;
  failure_reason: string | null;
  culprits: SigningRequestRecord['culprits'];
  attempt_count: number;
  blameless_refusals: SigningRequestRecord['blamelessRefusals'];
  intent: Record<string, unknown>;
  intent_hash: string | null;
  proposer: string;
  grant_id: string | null;
}

/** A row read with plain SQL, as the same record `toRecord` makes of an entity (the repository spec compares them). */
const rawToRecord = (r: RawRequestRow): SigningRequestRecord =>
  recordOf({
    id: r.id,
    keyId: r.key_id,
    message: r.message,
    messageEncoding: r.message_encoding,
    description: r.description,
    status: r.status,
    deadline: r.deadline,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    completedAt: r.completed_at,
    signature: r.signature,
    failureCode: r.failure_code,
    failureReason: r.failure_reason,
    culprits: r.culprits,
    attemptCount: r.attempt_count,
    blamelessRefusals: r.blameless_refusals,
    intent: r.intent,
    intentHash: r.intent_hash,
    proposer: r.proposer,
    grantId: r.grant_id,
  });

/** A row as a record (for the grants' repository, which lists a grant's requests). */
export const signingRequestRecordOf = (row: SigningRequestRow): SigningRequestRecord => toRecord(row);

const toRecordOrNull = (row: SigningRequestRow | null): SigningRequestRecord | null => (row ? toRecord(row) : null);

export class TypeOrmSigningRequestRepository implements SigningRequestRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The unique keys decide between concurrent inserts: a used idempotency key is IDEMPOTENCY_CONFLICT,
   * an intent hash the key already has INTENT_ALREADY_SIGNED, a sequence it already has SEQUENCE_USED.
   */
  async insert(request: SigningRequestRecord): Promise<void> {
    await mapUniqueViolations(() => this.manager.insert(SigningRequestEntity, writable(toRow(request))), {
      signing_requests_idempotency_key_key: () => new DomainError('IDEMPOTENCY_CONFLICT', 'idempotency key already used'),
      signing_requests_key_id_intent_hash_key: () =>
        new DomainError('INTENT_ALREADY_SIGNED', `this intent was already proposed for key ${request.keyId}`, { intentHash: request.intentHash }),
      signing_requests_key_id_sequence_key: () =>
        new DomainError('SEQUENCE_USED', `sequence ${request.intent.sequence} of key ${request.keyId} is already used`, {
          sequence: request.intent.sequence,
        }),
    });
  }

  /** Plain SQL (every event and long-poll reads a request by id: TypeORM's query builder cost more than the query). */
  async findById(id: string): Promise<SigningRequestRecord | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.manager.query<RawRequestRow[]>(`SELECT ${REQUEST_COLUMNS} FROM signing_requests WHERE id = $1`, [id]);
    return row ? rawToRecord(row) : null;
  }

  /** Locks the row until the caller's transaction ends (the first lock every event of the request takes). */
  async findByIdForUpdate(id: string): Promise<SigningRequestRecord | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.manager.query<RawRequestRow[]>(`SELECT ${REQUEST_COLUMNS} FROM signing_requests WHERE id = $1 FOR UPDATE`, [id]);
    return row ? rawToRecord(row) : null;
  }

  async findByIdempotencyKey(idempotencyKey: string): Promise<SigningRequestRecord | null> {
    return toRecordOrNull(await this.manager.findOneBy(SigningRequestEntity, { idempotencyKey }));
  }

  async findByIntentHash(keyId: string, intentHash: string): Promise<SigningRequestRecord | null> {
    if (!isUuid(keyId)) return null;
    return toRecordOrNull(await this.manager.findOneBy(SigningRequestEntity, { keyId, intentHash }));
  }

  async findBySequence(keyId: string, sequence: number): Promise<SigningRequestRecord | null> {
    if (!isUuid(keyId)) return null;
    return toRecordOrNull(await this.manager.findOneBy(SigningRequestEntity, { keyId, sequence }));
  }

  async update(id: string, patch: SigningRequestPatch): Promise<void> {
    // Fields present but undefined are left alone, as if absent.
    const { intent, ...others } = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as SigningRequestPatch;
    const values: Partial<SigningRequestRow> = { ...others, ...(intent ? { intent, ...intentColumns(intent) } : {}) };
    if (Object.keys(values).length === 0) return;
    expectOneRow(await this.manager.update(SigningRequestEntity, { id }, writable(values)), `signing request ${id}`);
  }

  async listOpen(): Promise<SigningRequestRecord[]> {
    const rows = await this.manager.find(SigningRequestEntity, {
      where: { status: In([...OPEN_REQUEST_STATUSES]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(toRecord);
  }

  /** The partial index signing_requests_open_due_idx serves both arms. */
  async listDue(now: Date, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.manager.query(
      `SELECT id FROM signing_requests
       WHERE status IN ('pending', 'committing', 'signing') AND (deadline <= $1 OR wake_at <= $1)
       ORDER BY LEAST(deadline, COALESCE(wake_at, deadline)) LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Newest first. */
  async list(filter: { status?: RequestStatus; keyId?: string; proposer?: string; limit: number; offset: number }): Promise<SigningRequestRecord[]> {
    if (filter.keyId !== undefined && !isUuid(filter.keyId)) return [];
    const where: FindOptionsWhere<SigningRequestRow> = {};
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.keyId !== undefined) where.keyId = filter.keyId;
    // A proposer owns its own requests and those made under the grants it proposed (agents' requests).
    const ownGrants = filter.proposer === undefined ? [] : await this.grantsProposedBy(filter.proposer);
    const scoped: FindOptionsWhere<SigningRequestRow>[] =
      filter.proposer === undefined
        ? [where]
        : [{ ...where, proposer: filter.proposer }, ...(ownGrants.length > 0 ? [{ ...where, grantId: In(ownGrants) }] : [])];
    const rows = await this.manager.find(SigningRequestEntity, {
      where: scoped,
      order: { createdAt: 'DESC', id: 'DESC' },
      take: filter.limit,
      skip: filter.offset,
    });
    return rows.map(toRecord);
  }

  private async grantsProposedBy(proposer: string): Promise<string[]> {
    const rows = await this.manager.query<{ id: string }[]>('SELECT id FROM grants WHERE proposer = $1', [proposer]);
    return rows.map((r) => r.id);
  }
}
