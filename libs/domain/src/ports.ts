import type {
  ActorKind,
  AttemptRecord,
  AttemptStatus,
  AuditAction,
  AuditCheckpointRecord,
  AuditCosignatureRecord,
  AuditWitnessRefusalRecord,
  AuditEntry,
  AuditEntryInput,
  Culprit,
  CeremonyRecord,
  CeremonyResultRecord,
  CeremonyShareRecord,
  CeremonyStatus,
  CommitmentRecord,
  DecisionRecord,
  GrantDecisionRecord,
  GrantNonceRecord,
  GrantRecord,
  GrantStatus,
  KeyRecord,
  KeyStatus,
  NodeRecord,
  PrincipalRecord,
  RequestStatus,
  ShareRecord,
  SigningRequestRecord,
} from './records.js';
import type { WebhookRepository } from './webhooks/webhook-records.js';
import type { ConsoleSessionRepository } from './console/console-session-records.js';
import type { ClusterRepository, PresenceRecord } from './cluster/cluster-records.js';

/**
 * Persistence ports. Services depend on these interfaces (bound to the STORE token), never on TypeORM.
 * Every query on a request, attempt or key takes its id as a required argument.
 */
export interface NodeRepository {
  /** Inserts; a public key already enrolled (even by a concurrent insert) is NODE_ALREADY_ENROLLED. */
  insert(node: NodeRecord): Promise<void>;
  findById(id: string): Promise<NodeRecord | null>;
  findByPublicKey(publicKey: string): Promise<NodeRecord | null>;
  list(): Promise<NodeRecord[]>;
  /** The nodes among `ids` that exist, in no particular order. */
  listByIds(ids: readonly string[]): Promise<NodeRecord[]>;
  revoke(id: string, at: Date): Promise<void>;
  /** Makes a revoked node active again (clears `revokedAt`). */
  restore(id: string): Promise<void>;
  touch(id: string, at: Date): Promise<void>;
  /**
   * Records the policy hash the node reported at `at`, and returns the one it replaces (null if none).
   * The row is locked until the transaction ends, so two coordinators authenticating the same node at
   * once each see the other's value, and each change is audited once.
   */
  reportPolicy(id: string, policyHash: string, at: Date): Promise<{ previous: string | null }>;
}

export interface KeyRepository {
  /** Inserts the key and its members; an id already taken (even by a concurrent insert) is KEY_ALREADY_EXISTS. */
  insert(key: KeyRecord): Promise<void>;
  findById(id: string): Promise<KeyRecord | null>;
  /** The keys among `ids` that exist, in no particular order (one round trip for a whole page). */
  findByIds(ids: readonly string[]): Promise<KeyRecord[]>;
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
  /** Who sent round-2 shares in each of `ceremonyIds`: one row per sender, by ceremony then sender identifier. */
  listRound2Senders(ceremonyIds: readonly string[]): Promise<{ ceremonyId: string; fromIdentifier: string }[]>;
  /** Who sent a result in each of `ceremonyIds`, by ceremony then arrival (as `listResults`). */
  listResultSenders(ceremonyIds: readonly string[]): Promise<{ ceremonyId: string; nodeId: string }[]>;
}

/** A change to a request's row: its record's fields, and when it next needs a look (`wakeAt`, null: none). */
export type SigningRequestPatch = Partial<Omit<SigningRequestRecord, 'id' | 'keyId' | 'createdAt'>> & { wakeAt?: Date | null };

export interface SigningRequestRepository {
  /**
   * Inserts; a used idempotency key is IDEMPOTENCY_CONFLICT, an intent hash the key already has
   * INTENT_ALREADY_SIGNED, a sequence it already has SEQUENCE_USED (even against a concurrent insert).
   */
  insert(request: SigningRequestRecord): Promise<void>;
  findById(id: string): Promise<SigningRequestRecord | null>;
  /** Locks the row until the transaction ends (SELECT ... FOR UPDATE). */
  findByIdForUpdate(id: string): Promise<SigningRequestRecord | null>;
  findByIdempotencyKey(idempotencyKey: string): Promise<SigningRequestRecord | null>;
  /** The key's request with this intent hash (unique per key: migration 0005). */
  findByIntentHash(keyId: string, intentHash: string): Promise<SigningRequestRecord | null>;
  /** The key's request with this sequence (unique per key: migration 0005). */
  findBySequence(keyId: string, sequence: number): Promise<SigningRequestRecord | null>;
  update(id: string, patch: SigningRequestPatch): Promise<void>;
  /** Requests not yet completed, failed or expired, oldest first. */
  listOpen(): Promise<SigningRequestRecord[]>;
  /** Ids of open requests whose deadline or wake-up time (`wakeAt`) is not after `now`, soonest first. */
  listDue(now: Date, limit: number): Promise<string[]>;
  /** Newest first; `proposer` limits the page to one proposer's requests. */
  list(filter: { status?: RequestStatus; keyId?: string; proposer?: string; limit: number; offset: number }): Promise<SigningRequestRecord[]>;
}

export interface AttemptRepository {
  insert(attempt: AttemptRecord): Promise<void>;
  /** Any attempt with this id, whatever its request (to tell "other request" from "unknown"). */
  findByIdAnyRequest(attemptId: string): Promise<AttemptRecord | null>;
  listForRequest(requestId: string): Promise<AttemptRecord[]>;
  /** The attempts of every request in `requestIds`, by request then seq (one round trip for a whole page). */
  listForRequests(requestIds: readonly string[]): Promise<AttemptRecord[]>;
  update(requestId: string, attemptId: string, patch: { status: AttemptStatus; endedAt: Date; failureReason?: string | null }): Promise<void>;
}

/** Thrown by CommitmentRepository.insert when the hiding or the binding element was ever seen for the key. */
export class CommitmentReusedError extends Error {
  constructor() {
    super('nonce element already used with this key');
    this.name = 'CommitmentReusedError';
  }
}

export interface CommitmentRepository {
  /**
   * Inserts; throws CommitmentReusedError when either element was ever used with the key, in either
   * position (a database unique key over every element the key has seen), leaving the caller's
   * transaction usable.
   */
  insert(commitment: CommitmentRecord): Promise<void>;
  /** Every id must name a ready commitment of the request; otherwise nothing is assigned and it throws. */
  assign(requestId: string, ids: string[], attemptId: string): Promise<void>;
  markUsed(requestId: string, attemptId: string, nodeId: string): Promise<void>;
  /** Burns every ready or assigned commitment of the request (optionally only one node's). */
  burnForRequest(requestId: string, nodeId?: string): Promise<number>;
  /** Ready commitments of requests that are still open: the nonce stock waiting for an attempt. */
  countReady(): Promise<number>;
}

export interface ShareRepository {
  insert(share: ShareRecord): Promise<void>;
  setValidity(requestId: string, attemptId: string, nodeId: string, valid: boolean): Promise<void>;
}

export interface AuditFilter {
  requestId?: string;
  keyId?: string;
  nodeId?: string;
  attemptId?: string;
  action?: AuditAction;
  actorKind?: ActorKind;
  actorId?: string;
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
  /** Appends several entries, in order, under one chain lock and one read of the head. */
  appendAll(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  query(filter: AuditFilter): Promise<AuditEntry[]>;
  /** Entries in seq order, for chain verification in batches. */
  listAfter(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  /** The chain hashes (the Merkle tree's leaf data) of entries with seq > afterSeq, ascending. */
  hashesAfter(afterSeq: number, limit: number): Promise<{ seq: number; hash: string }[]>;
  /** The highest seq (the tree size), 0 for an empty log. */
  headSeq(): Promise<number>;
  /** Inserts the checkpoint unless one exists for its (origin, size); true when this call inserted it. */
  saveCheckpoint(checkpoint: AuditCheckpointRecord): Promise<boolean>;
  /** The checkpoint of `origin` with the largest size. */
  latestCheckpoint(origin: string): Promise<AuditCheckpointRecord | null>;
  checkpointAt(origin: string, treeSize: number): Promise<AuditCheckpointRecord | null>;
  /** The largest checkpoint of `origin` with at least `minCosignatures` cosignatures (null: none). */
  latestCheckpointWith(origin: string, minCosignatures: number): Promise<AuditCheckpointRecord | null>;
  /** Inserts unless the node already cosigned that checkpoint; true when this call inserted it. */
  saveCosignature(cosignature: AuditCosignatureRecord): Promise<boolean>;
  /** The cosignatures of one checkpoint, in the order they arrived. */
  cosignaturesOf(origin: string, treeSize: number): Promise<AuditCosignatureRecord[]>;
  /** Per node of `nodeIds`, its cosignature of the largest size (no row for a node that cosigned none). */
  latestCosignatures(origin: string, nodeIds: readonly string[]): Promise<AuditCosignatureRecord[]>;
  /** Records (replacing) the node's latest refusal. */
  saveWitnessRefusal(refusal: AuditWitnessRefusalRecord): Promise<void>;
  witnessRefusals(origin: string): Promise<AuditWitnessRefusalRecord[]>;
}

/** API principals (migration 0007). */
export interface PrincipalRepository {
  /** Inserts; a name already taken (even by a concurrent insert) is PRINCIPAL_ALREADY_EXISTS. */
  insert(principal: PrincipalRecord): Promise<void>;
  findById(id: string): Promise<PrincipalRecord | null>;
  findByName(name: string): Promise<PrincipalRecord | null>;
  /** The principal whose API key hashes to `apiKeyHash` (SHA-256, hex), revoked or not. */
  findByApiKeyHash(apiKeyHash: string): Promise<PrincipalRecord | null>;
  /** In creation order. */
  list(): Promise<PrincipalRecord[]>;
  revoke(id: string, at: Date): Promise<void>;
}

/** Where each node stands on a request: proposed, awaiting its operator, its signed decision (migration 0006). */
export interface DecisionRepository {
  /** Every node's row for each of `requestIds` (one round trip for a whole page), by request then arrival. */
  listForRequests(requestIds: readonly string[]): Promise<DecisionRecord[]>;
  /** Inserts the node's row, or replaces it (an awaiting row becomes the node's decision). */
  save(record: DecisionRecord): Promise<void>;
  /** Adds a `proposed` row for each node that has no row for the request yet (others are left as they are). */
  markProposed(requestId: string, nodeIds: readonly string[], at: Date): Promise<void>;
}

/** Session-key grants, their decisions and their agent nonces (migration 0008). */
export interface GrantRepository {
  insert(grant: GrantRecord): Promise<void>;
  findById(id: string): Promise<GrantRecord | null>;
  /** Locks the row until the transaction ends (SELECT ... FOR UPDATE): serializes a grant's requests across instances. */
  findByIdForUpdate(id: string): Promise<GrantRecord | null>;
  /** Newest first; `proposer` limits to one proposer's grants. */
  list(filter: { status?: GrantStatus; keyId?: string; proposer?: string; limit: number; offset: number }): Promise<GrantRecord[]>;
  update(id: string, patch: Partial<Pick<GrantRecord, 'status' | 'activatedAt' | 'revokedAt' | 'revokedBy' | 'revokeReason'>>): Promise<void>;
  findDecision(grantId: string, nodeId: string): Promise<GrantDecisionRecord | null>;
  /** Every node's row for each of `grantIds`, by grant then arrival. */
  listDecisions(grantIds: readonly string[]): Promise<GrantDecisionRecord[]>;
  /** Inserts the node's row or replaces it. */
  saveDecision(record: GrantDecisionRecord): Promise<void>;
  /** Adds a `proposed` row for each node without one (others are left as they are). */
  markProposed(grantId: string, nodeIds: readonly string[], at: Date): Promise<void>;
  /** Records the agent's nonce; one used before under the grant (even concurrently) is AGENT_REQUEST_REPLAYED. */
  insertNonce(record: GrantNonceRecord): Promise<void>;
  findNonce(grantId: string, nonce: string): Promise<GrantNonceRecord | null>;
  /** The nonce row of a request made under a grant. */
  findNonceForRequest(requestId: string): Promise<GrantNonceRecord | null>;
  /** The requests made under the grant, newest first. */
  listRequests(grantId: string): Promise<SigningRequestRecord[]>;
}

/** What one event of a signing request reads besides the request's row, in one round trip (request-state.ts). */
export interface RequestEventReads {
  /** Every attempt, in seq order. */
  attempts: AttemptRecord[];
  /** The live (ready or assigned) commitments, oldest first. */
  commitments: CommitmentRecord[];
  /** Every share, in arrival order. */
  shares: ShareRecord[];
  /** Every member's decision row (proposed, awaiting, decided). */
  decisions: DecisionRecord[];
  /** Members connected to an instance alive at `liveSince`. */
  presence: PresenceRecord[];
  /** Members asked for a commitment, with the connection they were asked on. */
  asked: { nodeId: string; connectionId: string }[];
}

export interface RequestStateRepository {
  /**
   * Reads what an event works on, after the caller has locked the request's row (in a statement of its
   * own: a statement's snapshot is taken when it starts, so reads made in the statement that waited for
   * the lock could miss what the lock's previous holder committed).
   */
  load(requestId: string, memberIds: readonly string[], liveSince: Date): Promise<RequestEventReads>;
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
  readonly decisions: DecisionRepository;
  readonly principals: PrincipalRepository;
  readonly grants: GrantRepository;
  readonly webhooks: WebhookRepository;
  readonly consoleSessions: ConsoleSessionRepository;
  readonly cluster: ClusterRepository;
  readonly requestState: RequestStateRepository;
}

export interface TransactionOptions {
  /**
   * How many times to run `work` again, in a new transaction, when the database aborted it as a deadlock
   * or a serialization failure (default 0). Only for a `work` that keeps nothing outside the database
   * from a run that failed: it reads what it needs inside the transaction.
   */
  retries?: number;
}

/**
 * The unit of work. State that must survive a crash changes inside `transaction`, together with the
 * audit entries that record it; the callback must use only the repositories it is given.
 */
export interface Store {
  transaction<T>(work: (tx: Repositories) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Repositories outside any transaction, for reads. */
  readonly read: Repositories;
  /** Cheap round trip; throws when the database is unreachable. */
  ping(): Promise<void>;
  /**
   * Runs `work` holding the named lock across every coordinator instance on the database (an advisory
   * lock), for events whose reads and writes span several transactions (a ceremony's).
   */
  exclusive<T>(name: string, work: () => Promise<T>): Promise<T>;
}

export const STORE = Symbol('STORE');

/**
 * What the signing service tells a metrics sink (the coordinator's Prometheus registry), once an event's
 * transaction has committed: the domain knows nothing of Prometheus, the sink nothing of requests.
 * Durations in seconds. Bound to SIGNING_METRICS; without a binding, nothing is observed.
 */
export interface SigningMetrics {
  /** A request reached a final status (`secondsOpen`: from its creation). */
  requestFinished(status: 'completed' | 'failed' | 'expired' | 'cancelled', secondsOpen: number): void;
  /** An attempt started; `commitSeconds`: the commitment round before it (from the request's creation or the previous attempt's end). */
  attemptStarted(commitSeconds: number): void;
  /** An attempt ended; `signSeconds`: its signing round (from its start). */
  attemptEnded(status: AttemptStatus, signSeconds: number): void;
  /** A node was excluded from a request. */
  nodeExcluded(reason: Culprit['reason']): void;
}

export const SIGNING_METRICS = Symbol('SIGNING_METRICS');
