import type {
  AttemptRecord,
  AttemptStatus,
  AuditAction,
  AuditEntry,
  AuditEntryInput,
  CeremonyRecord,
  CeremonyResultRecord,
  CeremonyShareRecord,
  CeremonyStatus,
  CommitmentRecord,
  KeyRecord,
  KeyStatus,
  NodeRecord,
  RequestStatus,
  ShareRecord,
  SigningRequestRecord,
} from './records.js';

/**
 * Persistence ports. Services depend on these interfaces (bound to the STORE token), never on TypeORM.
 * Every query on a request, attempt or key takes its id as a required argument.
 */
export interface NodeRepository {
  insert(node: NodeRecord): Promise<void>;
  findById(id: string): Promise<NodeRecord | null>;
  findByPublicKey(publicKey: string): Promise<NodeRecord | null>;
  list(): Promise<NodeRecord[]>;
  revoke(id: string, at: Date): Promise<void>;
  touch(id: string, at: Date): Promise<void>;
}

export interface KeyRepository {
  /** Inserts the key and its members. */
  insert(key: KeyRecord): Promise<void>;
  findById(id: string): Promise<KeyRecord | null>;
  list(): Promise<KeyRecord[]>;
  /** Active keys in which the node holds a share. */
  listActiveForNode(nodeId: string): Promise<KeyRecord[]>;
  setStatus(id: string, status: KeyStatus): Promise<void>;
}

/** Ceremonies with their relayed round-2 shares and their participants' results. */
export interface CeremonyRepository {
  insert(ceremony: CeremonyRecord): Promise<void>;
  findById(id: string): Promise<CeremonyRecord | null>;
  update(id: string, patch: Partial<Omit<CeremonyRecord, 'id' | 'keyId' | 'createdAt'>>): Promise<void>;
  /** Ceremonies still in a round, oldest first. */
  listOpen(): Promise<CeremonyRecord[]>;
  /** Newest first. */
  list(filter: { status?: CeremonyStatus; limit: number; offset: number }): Promise<CeremonyRecord[]>;
  insertShares(shares: CeremonyShareRecord[]): Promise<void>;
  /** Ordered by sender then recipient identifier (text). */
  listShares(ceremonyId: string): Promise<CeremonyShareRecord[]>;
  insertResult(result: CeremonyResultRecord): Promise<void>;
  listResults(ceremonyId: string): Promise<CeremonyResultRecord[]>;
}

export interface SigningRequestRepository {
  insert(request: SigningRequestRecord): Promise<void>;
  findById(id: string): Promise<SigningRequestRecord | null>;
  /** Locks the row until the transaction ends (SELECT ... FOR UPDATE). */
  findByIdForUpdate(id: string): Promise<SigningRequestRecord | null>;
  findByIdempotencyKey(idempotencyKey: string): Promise<SigningRequestRecord | null>;
  update(id: string, patch: Partial<Omit<SigningRequestRecord, 'id' | 'keyId' | 'createdAt'>>): Promise<void>;
  /** Requests not yet completed, failed or expired, oldest first. */
  listOpen(): Promise<SigningRequestRecord[]>;
  list(filter: { status?: RequestStatus; keyId?: string; limit: number; offset: number }): Promise<SigningRequestRecord[]>;
}

export interface AttemptRepository {
  insert(attempt: AttemptRecord): Promise<void>;
  findById(requestId: string, attemptId: string): Promise<AttemptRecord | null>;
  /** Any attempt with this id, whatever its request (to tell "other request" from "unknown"). */
  findByIdAnyRequest(attemptId: string): Promise<AttemptRecord | null>;
  listForRequest(requestId: string): Promise<AttemptRecord[]>;
  update(requestId: string, attemptId: string, patch: { status: AttemptStatus; endedAt: Date; failureReason?: string | null }): Promise<void>;
}

/** Thrown by CommitmentRepository.insert when the hiding or binding element was ever seen for the key. */
export class CommitmentReusedError extends Error {
  constructor() {
    super('commitment already used for this key');
    this.name = 'CommitmentReusedError';
  }
}

export interface CommitmentRepository {
  /** Inserts; throws CommitmentReusedError on a duplicate element for the key (database unique constraint). */
  insert(commitment: CommitmentRecord): Promise<void>;
  /** Ready commitments of a request, oldest first. */
  listReady(requestId: string): Promise<CommitmentRecord[]>;
  /** The node's commitments in the request that are still ready or assigned. */
  listLiveForNode(requestId: string, nodeId: string): Promise<CommitmentRecord[]>;
  assign(requestId: string, ids: string[], attemptId: string): Promise<void>;
  markUsed(requestId: string, attemptId: string, nodeId: string): Promise<void>;
  /** Burns the attempt's commitments that were not used. */
  burnForAttempt(requestId: string, attemptId: string): Promise<number>;
  /** Burns every ready or assigned commitment of the request (optionally only one node's). */
  burnForRequest(requestId: string, nodeId?: string): Promise<number>;
}

export interface ShareRepository {
  /** Inserts; returns the existing row instead when the node already sent a share for the attempt. */
  insertOrGet(share: ShareRecord): Promise<{ inserted: boolean; existing: ShareRecord | null }>;
  listForAttempt(requestId: string, attemptId: string): Promise<ShareRecord[]>;
  setValidity(requestId: string, attemptId: string, nodeId: string, valid: boolean): Promise<void>;
}

export interface AuditFilter {
  requestId?: string;
  keyId?: string;
  nodeId?: string;
  attemptId?: string;
  action?: AuditAction;
  from?: Date;
  to?: Date;
  /** Return entries with seq > afterSeq (keyset paging). */
  afterSeq?: number;
  limit: number;
}

export interface AuditRepository {
  /**
   * Appends one entry inside the caller's transaction: takes the chain lock, reads the head,
   * computes seq, prevHash and hash (libs/audit), inserts.
   */
  append(entry: AuditEntryInput): Promise<AuditEntry>;
  query(filter: AuditFilter): Promise<AuditEntry[]>;
  /** Entries in seq order, for chain verification in batches. */
  listAfter(afterSeq: number, limit: number): Promise<AuditEntry[]>;
}

export interface Repositories {
  readonly nodes: NodeRepository;
  readonly keys: KeyRepository;
  readonly requests: SigningRequestRepository;
  readonly attempts: AttemptRepository;
  readonly commitments: CommitmentRepository;
  readonly shares: ShareRepository;
  readonly audit: AuditRepository;
  readonly ceremonies: CeremonyRepository;
}

/**
 * The unit of work. State that must survive a crash changes inside `transaction`, together with the
 * audit entries that record it; the callback must use only the repositories it is given.
 */
export interface Store {
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Repositories outside any transaction, for reads. */
  readonly read: Repositories;
  /** Cheap round trip; throws when the database is unreachable. */
  ping(): Promise<void>;
}

export const STORE = Symbol('STORE');
