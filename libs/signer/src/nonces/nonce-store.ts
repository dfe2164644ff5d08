import { sha256Hex, wipeNonces, type CommitmentHex, type Nonces } from '#crypto';
import { silentLogger, type SignerLogger } from '../logger.js';
import { NonceJournal, type JournalLocation, type JournalRecord, type TerminalState } from './nonce-journal.js';

/**
 * The journal id of a nonce pair: sha256 of its public commitment's hex text (hiding || binding), the
 * same hash the coordinator records, so a node's journal can be matched against the coordinator's.
 */
export const nonceIdOf = (c: Pick<CommitmentHex, 'hiding' | 'binding'>): string => sha256Hex(`${c.hiding}${c.binding}`);

/**
 * What the store knows about a commitment found in a signing package for a request:
 * - `live`: issued for this request and unused: it may sign, once;
 * - `consumed`: consumed or discarded (in this process or before a restart): it can never sign again;
 * - `altered`: tampered with: one of this node's live nonces issued for another request, or one of
 *   its two elements equals an element this node issued for this request and the other does not;
 * - `unknown`: this node has no record of ever issuing it.
 */
export type NonceStatus = 'live' | 'consumed' | 'altered' | 'unknown';

export interface NonceLimits {
  /** Live nonces kept per request; the oldest is discarded beyond it. */
  perRequest: number;
  /** Live nonces kept in all; the oldest is discarded beyond it. */
  total: number;
}

export const DEFAULT_NONCE_LIMITS: NonceLimits = { perRequest: 8, total: 1024 };

interface LiveNonce {
  id: string;
  requestId: string;
  commitment: CommitmentHex;
  nonces: Nonces;
}

/** How many elements per request are remembered to recognise an altered commitment. */
const MAX_REMEMBERED_ELEMENTS = 128;

/**
 * Live nonces, in memory only, backed by the nonce journal for what must survive a restart: which
 * nonces were issued, consumed or discarded. Invariants:
 * - a nonce is journaled `issued` before it is stored, so its commitment is never sent unrecorded;
 * - it is removed from memory, then journaled `consumed` (fsync'd), and only then handed out to sign
 *   once; its scalars are zeroed right after;
 * - at open, every nonce the journal shows issued and never settled is settled as `discarded`.
 */
export class NonceStore {
  /** Insertion order is age order: the first entry is the oldest live nonce. */
  private readonly live = new Map<string, LiveNonce>();
  private readonly liveByRequest = new Map<string, string[]>();
  private readonly elementsByRequest = new Map<string, Set<string>>();

  private constructor(
    private readonly journal: NonceJournal,
    private readonly settled: Map<string, TerminalState>,
    private readonly limits: NonceLimits,
    private readonly logger: SignerLogger,
    private readonly now: () => number,
  ) {}

  static async open(
    journalLocation: JournalLocation,
    options: { limits?: Partial<NonceLimits>; logger?: SignerLogger; now?: () => number } = {},
  ): Promise<NonceStore> {
    const logger = options.logger ?? silentLogger;
    const now = options.now ?? Date.now;
    const { journal, replay } = await NonceJournal.open(journalLocation);
    if (replay.tornTail) {
      logger.warn({ journal: journalLocation.path }, 'nonce journal ended with a torn line (crash during a write); dropped it');
    }
    if (replay.unsettled.length > 0) {
      // Their secrets died with the previous process, but it may have sent a share with any of them:
      // record them unusable so a package naming one is answered NONCE_CONSUMED.
      await journal.append(
        ...replay.unsettled.map((n): JournalRecord => ({ event: 'discarded', id: n.id, reason: 'restart', at: now() })),
      );
      for (const n of replay.unsettled) replay.settled.set(n.id, 'discarded');
      logger.info({ count: replay.unsettled.length }, 'discarded nonces left live by the previous run');
    }
    const limits = { ...DEFAULT_NONCE_LIMITS, ...options.limits };
    return new NonceStore(journal, replay.settled, limits, logger, now);
  }

  /** Records a freshly committed nonce for `requestId`; resolves once the journal holds it. */
  async issue(requestId: string, commitment: CommitmentHex, nonces: Nonces): Promise<void> {
    const id = nonceIdOf(commitment);
    try {
      await this.journal.append({ event: 'issued', id, requestId, at: this.now() });
    } catch (e) {
      wipeNonces(nonces);
      throw e;
    }
    this.live.set(id, { id, requestId, commitment, nonces });
    const ids = this.liveByRequest.get(requestId) ?? [];
    ids.push(id);
    this.liveByRequest.set(requestId, ids);
    const elements = this.elementsByRequest.get(requestId) ?? new Set<string>();
    if (elements.size < MAX_REMEMBERED_ELEMENTS) elements.add(commitment.hiding).add(commitment.binding);
    this.elementsByRequest.set(requestId, elements);
    await this.enforceLimits(requestId);
  }

  status(requestId: string, commitment: CommitmentHex): NonceStatus {
    const id = nonceIdOf(commitment);
    const live = this.live.get(id);
    if (live) {
      return live.requestId === requestId && live.commitment.identifier === commitment.identifier ? 'live' : 'altered';
    }
    if (this.settled.has(id)) return 'consumed';
    const elements = this.elementsByRequest.get(requestId);
    if (elements && (elements.has(commitment.hiding) || elements.has(commitment.binding))) return 'altered';
    return 'unknown';
  }

  /**
   * Uses a live nonce exactly once: forgets it, journals `consumed` (fsync'd), calls `sign` with the
   * nonce scalars, then zeroes them whatever `sign` did. Throws if the nonce is not live for the request.
   */
  async consume<T>(requestId: string, commitment: CommitmentHex, attemptId: string, sign: (nonces: Nonces) => T): Promise<T> {
    if (this.status(requestId, commitment) !== 'live') {
      throw new Error(`nonce ${nonceIdOf(commitment)} is not live for request ${requestId}`);
    }
    const id = nonceIdOf(commitment);
    const entry = this.take(id);
    this.settled.set(id, 'consumed');
    try {
      await this.journal.append({ event: 'consumed', id, attemptId, at: this.now() });
      return sign(entry.nonces);
    } finally {
      wipeNonces(entry.nonces);
    }
  }

  /** Discards one live nonce (no-op if it is not live). */
  async discard(commitment: Pick<CommitmentHex, 'hiding' | 'binding'>, reason: string): Promise<boolean> {
    const id = nonceIdOf(commitment);
    if (!this.live.has(id)) return false;
    await this.settle([id], reason);
    return true;
  }

  /** Discards every live nonce of a request and forgets the request. Returns how many were discarded. */
  async discardRequest(requestId: string, reason: string): Promise<number> {
    const ids = [...(this.liveByRequest.get(requestId) ?? [])];
    this.elementsByRequest.delete(requestId);
    await this.settle(ids, reason);
    return ids.length;
  }

  /** Discards every live nonce (at shutdown, so the next start need not treat them as suspect). */
  async discardAll(reason: string): Promise<number> {
    const ids = [...this.live.keys()];
    this.elementsByRequest.clear();
    await this.settle(ids, reason);
    return ids.length;
  }

  liveCount(requestId?: string): number {
    return requestId === undefined ? this.live.size : (this.liveByRequest.get(requestId)?.length ?? 0);
  }

  /** Settled state of a nonce id according to this process and the journal. */
  settledState(commitment: Pick<CommitmentHex, 'hiding' | 'binding'>): TerminalState | undefined {
    return this.settled.get(nonceIdOf(commitment));
  }

  /** Refuses every further journal write, hence every new commitment and signature (see NonceJournal.fence). */
  fence(reason: string): void {
    this.journal.fence(reason);
  }

  async close(): Promise<void> {
    await this.journal.close();
  }

  private async enforceLimits(requestId: string): Promise<void> {
    const excess = new Set<string>();
    const ofRequest = this.liveByRequest.get(requestId) ?? [];
    for (const id of ofRequest.slice(0, Math.max(0, ofRequest.length - this.limits.perRequest))) excess.add(id);
    // Map iteration is insertion order: oldest first.
    for (const id of this.live.keys()) {
      if (this.live.size - excess.size <= this.limits.total) break;
      excess.add(id);
    }
    if (excess.size > 0) {
      this.logger.debug({ requestId, count: excess.size }, 'discarding the oldest live nonces (limit reached)');
      await this.settle([...excess], 'limit');
    }
  }

  /** Removes live nonces from memory, zeroes them and journals them discarded. */
  private async settle(ids: readonly string[], reason: string): Promise<void> {
    const at = this.now();
    const records: JournalRecord[] = [];
    for (const id of ids) {
      if (!this.live.has(id)) continue;
      wipeNonces(this.take(id).nonces);
      this.settled.set(id, 'discarded');
      records.push({ event: 'discarded', id, reason, at });
    }
    await this.journal.append(...records);
  }

  private take(id: string): LiveNonce {
    const entry = this.live.get(id);
    if (!entry) throw new Error(`nonce ${id} is not live`);
    this.live.delete(id);
    const ids = this.liveByRequest.get(entry.requestId);
    if (ids) {
      const rest = ids.filter((x) => x !== id);
      if (rest.length > 0) this.liveByRequest.set(entry.requestId, rest);
      else this.liveByRequest.delete(entry.requestId);
    }
    return entry;
  }
}
