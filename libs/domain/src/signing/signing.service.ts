import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  aggregateOrBlame,
  assertValidCommitment,
  getSuite,
  canonicalJson,
  CryptoValidationError,
  hexToBytes,
  sha256Hex,
  sortCommitments,
  utf8,
  verifySignatureShare,
  type CommitmentHex,
} from '#crypto';
import {
  MAX_MESSAGE_BYTES,
  packageFits,
  type AttemptRefuseFrame,
  type AttemptShareFrame,
  type CoordinatorFrame,
  type NonceCommitment,
  type Outgoing,
  type RefusalCode,
  type RequestCommitFrame,
  type RequestDeclineFrame,
} from '#protocol';
import { DeadlineTimers } from '../common/deadline-timers.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { runThenSend, type Outbox } from '../common/outbox.js';
import { DOMAIN_SETTINGS, NODE_LINK, SYSTEM_ACTOR, type Actor, type DomainSettings, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { CommitmentReusedError, STORE, type Repositories, type Store } from '../ports.js';
import {
  isTerminalRequest,
  type AttemptRecord,
  type CommitmentRecord,
  type Culprit,
  type KeyRecord,
  type ShareRecord,
  type SigningRequestRecord,
} from '../records.js';

export interface CreateRequestInput {
  keyId: string;
  message: string;
  encoding: 'hex' | 'utf8';
  description: string;
  deadline?: Date;
  idempotencyKey?: string;
}

export interface RequestView {
  request: SigningRequestRecord;
  attempts: AttemptRecord[];
  groupPublicKey: string;
  suite: string;
}


/** What the handler of a node frame did: the gateway acks both, an error is thrown instead. */
export type FrameOutcome = 'accepted' | 'duplicate';

/** Refusals that say the node lost or already spent its nonce: honest after a restart, not blamed. */
const BLAMELESS_REFUSALS: readonly RefusalCode[] = ['NONCE_UNKNOWN', 'NONCE_CONSUMED', 'DEADLINE_PASSED'];
/** Blameless refusals one node may make per request before it is blamed (so it cannot stall a request). */
const MAX_BLAMELESS_REFUSALS = 3;
/** Reasons in frames are bounded by the protocol's schemas. */
const reasonText = (text: string): string => (text.length <= 500 ? text : `${text.slice(0, 497)}...`);

const commitmentHash = (c: { hiding: string; binding: string }): string => sha256Hex(`${c.hiding}${c.binding}`);
const sameCommitment = (a: { hiding: string; binding: string }, b: { hiding: string; binding: string }) =>
  a.hiding === b.hiding && a.binding === b.binding;
const isExcluded = (request: SigningRequestRecord, nodeId: string): boolean => request.culprits.some((c) => c.nodeId === nodeId);
const describeExcluded = (culprits: readonly Culprit[]): string =>
  culprits.length === 0 ? '' : `; excluded: ${culprits.map((c) => `${c.nodeId} (${c.reason}${c.detail ? `: ${c.detail}` : ''})`).join(', ')}`;

const always = () => true;

/** Thrown once a misbehaving node is excluded: its frame is answered with `error` after the state committed. */
class Misbehaviour extends Error {
  constructor(readonly error: DomainError) {
    super(error.message);
  }
}

/**
 * Runs signing requests with ROAST (Ruffing et al., CCS 2022) over FROST: proposal, nonce commitments,
 * concurrent attempts (each with its own id and commitment list), share validation with named culprits,
 * exclusion of misbehaving signers, aggregation and verification, and expiry.
 *
 * Every event of one request is handled under that request's mutex; every state change commits in one
 * transaction together with its audit entries; frames to nodes leave only after that commit.
 */
@Injectable()
export class SigningService implements OnModuleDestroy {
  private readonly logger = new Logger(SigningService.name);
  private readonly mutex = new KeyedMutex();
  private readonly timers = new DeadlineTimers((name, e) => this.logger.error(`${name}: ${(e as Error).message}`));
  /** Emits a request's id once its final state has committed (for long-polling clients). */
  private readonly settled = new EventEmitter().setMaxListeners(0);
  /**
   * Keys' public packages and members, which never change once registered; a request's key is read
   * once instead of on every frame. (Status is read fresh where it matters: creating a request.)
   */
  private readonly keyCache = new Map<string, KeyRecord>();
  /** Blameless refusals per `${requestId}:${nodeId}`; forgotten with the request. */
  private readonly refusals = new Map<string, number>();
  /**
   * Per request: the connection on which each node was asked for a commitment whose answer is not in yet.
   * A node is asked at most once per connection, so an honest node never has two commitments to offer.
   */
  private readonly proposed = new Map<string, Map<string, number>>();

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
    @Inject(DOMAIN_SETTINGS) private readonly settings: DomainSettings,
  ) {}

  onModuleDestroy(): void {
    this.settled.removeAllListeners();
    this.timers.stop();
  }

  // ------------------------------------------------------------------ API

  async create(input: CreateRequestInput, actor: Actor): Promise<{ request: SigningRequestRecord; created: boolean }> {
    const key = await this.store.read.keys.findById(input.keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${input.keyId} not found`);
    if (key.status !== 'active') throw new DomainError('KEY_RETIRED', `key ${input.keyId} is retired`);
    const message = encodeMessage(input.message, input.encoding);
    if (!packageFits(message.length / 2, key.threshold, getSuite(key.suite))) {
      throw new DomainError('VALIDATION_FAILED', `message too large for a signing package of ${key.threshold} signers`);
    }
    const now = new Date();
    const deadline = input.deadline ?? new Date(now.getTime() + this.settings.defaultRequestTtlMs);
    if (deadline.getTime() <= now.getTime() + 1000) {
      throw new DomainError('VALIDATION_FAILED', 'deadline must be at least one second in the future');
    }
    if (deadline.getTime() > now.getTime() + this.settings.maxRequestTtlMs) {
      throw new DomainError('VALIDATION_FAILED', `deadline must be within ${this.settings.maxRequestTtlMs} ms`);
    }
    const requestHash = sha256Hex(
      canonicalJson({
        keyId: input.keyId,
        message,
        encoding: input.encoding,
        description: input.description,
        deadline: input.deadline?.toISOString() ?? null,
      }),
    );
    const create = async (): Promise<{ request: SigningRequestRecord; created: boolean }> => {
      if (input.idempotencyKey !== undefined) {
        const existing = await this.store.read.requests.findByIdempotencyKey(input.idempotencyKey);
        if (existing) {
          if (existing.requestHash !== requestHash) {
            throw new DomainError('IDEMPOTENCY_CONFLICT', 'idempotency key already used for a different request');
          }
          return { request: existing, created: false };
        }
      }
      const request: SigningRequestRecord = {
        id: randomUUID(),
        keyId: key.id,
        message,
        messageEncoding: input.encoding,
        description: input.description,
        status: 'pending',
        deadline,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash,
        createdBy: actor.id,
        createdAt: now,
        updatedAt: now,
        completedAt: null,
        signature: null,
        failureCode: null,
        failureReason: null,
        culprits: [],
        attemptCount: 0,
      };
      await this.store.transaction(async (tx) => {
        await tx.requests.insert(request);
        await tx.audit.append({
          occurredAt: now,
          actorKind: actor.kind,
          actorId: actor.id,
          action: 'request.created',
          outcome: 'success',
          keyId: key.id,
          requestId: request.id,
          details: {
            messageHash: sha256Hex(hexToBytes(message)),
            messageBytes: message.length / 2,
            encoding: input.encoding,
            description: input.description,
            deadline: deadline.toISOString(),
            idempotencyKey: input.idempotencyKey ?? null,
            requestHash,
          },
        });
      });
      return { request, created: true };
    };
    const result =
      input.idempotencyKey !== undefined ? await this.mutex.run(`idem:${input.idempotencyKey}`, create) : await create();
    if (result.created) {
      this.scheduleExpiry(result.request);
      await this.withRequest(result.request.id, (out) => this.propose(result.request.id, out));
    }
    return result;
  }

  async view(requestId: string): Promise<RequestView> {
    const request = await this.store.read.requests.findById(requestId);
    if (!request) throw new DomainError('REQUEST_NOT_FOUND', `signing request ${requestId} not found`);
    const [attempts, key] = await Promise.all([
      this.store.read.attempts.listForRequest(requestId),
      this.store.read.keys.findById(request.keyId),
    ]);
    return { request, attempts, groupPublicKey: key?.groupPublicKey ?? '', suite: key?.suite ?? '' };
  }

  /**
   * Resolves once the request is completed, failed or expired, or after `timeoutMs`, with its view.
   * Lets a client wait for a signature without polling.
   */
  async waitForOutcome(requestId: string, timeoutMs: number): Promise<RequestView> {
    let onSettled: (() => void) | undefined;
    const settled = new Promise<void>((resolve) => {
      onSettled = resolve;
      this.settled.on(requestId, resolve);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const current = await this.view(requestId);
      if (isTerminalRequest(current.request.status) || timeoutMs <= 0) return current;
      await Promise.race([settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      return await this.view(requestId);
    } finally {
      clearTimeout(timer);
      if (onSettled) this.settled.off(requestId, onSettled);
    }
  }

  list(filter: { status?: SigningRequestRecord['status']; keyId?: string; limit: number; offset: number }) {
    return this.store.read.requests.list(filter);
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * At boot: attempts that were running when the coordinator stopped can never complete (their packages
   * and shares were in flight on connections that are gone), so they end as aborted and every unused
   * commitment is burned; requests go back to collecting fresh commitments; deadlines are re-armed.
   */
  async recover(): Promise<number> {
    const open = await this.store.read.requests.listOpen();
    for (const request of open) {
      await this.withRequest(request.id, async () => {
        await this.store.transaction(async (tx) => {
          const now = new Date();
          for (const attempt of await tx.attempts.listForRequest(request.id)) {
            if (attempt.status !== 'signing') continue;
            await tx.attempts.update(request.id, attempt.id, { status: 'aborted', endedAt: now, failureReason: 'coordinator restarted' });
            await tx.audit.append({
              ...this.event(SYSTEM_ACTOR, 'attempt.failed', 'failure', request, attempt.id),
              details: { reason: 'coordinator restarted', seq: attempt.seq, status: 'aborted' },
            });
          }
          await tx.commitments.burnForRequest(request.id);
          await tx.requests.update(request.id, { status: 'pending', updatedAt: now });
        });
      });
      this.scheduleExpiry(request);
    }
    return open.length;
  }

  /**
   * A node authenticated. If it owes a share to a running attempt, its package is sent again (the node
   * refuses it, blamelessly, if its nonce died with a previous process). Otherwise whatever it offered on
   * an earlier connection is burned, since it may belong to a process that is gone, and it is asked anew.
   */
  async onNodeConnected(nodeId: string): Promise<void> {
    const keys = await this.store.read.keys.listActiveForNode(nodeId);
    if (keys.length === 0) return;
    const keyIds = new Set(keys.map((k) => k.id));
    const open = (await this.store.read.requests.listOpen()).filter((r) => keyIds.has(r.keyId));
    for (const request of open) {
      await this.withRequest(request.id, async (out) => {
        const current = await this.store.read.requests.findById(request.id);
        if (!current || isTerminalRequest(current.status) || isExcluded(current, nodeId)) return;
        const live = await this.store.read.commitments.listLiveForNode(request.id, nodeId);
        const owed = live.find((c) => c.status === 'assigned');
        const attempt = owed?.attemptId ? await this.store.read.attempts.findById(request.id, owed.attemptId) : null;
        const since = this.link.connection(nodeId)?.since ?? new Date();
        if (attempt?.status === 'signing') {
          // Its package went out on an earlier connection and may be lost (one sent on this connection is not).
          if (attempt.startedAt < since) out.push([nodeId, this.packageFrame(current, attempt)]);
          return;
        }
        // Only what earlier connections offered: a commitment sent on this one belongs to the live process.
        if (live.some((c) => c.receivedAt < since)) {
          await this.store.transaction((tx) => tx.commitments.burnForRequest(request.id, nodeId));
        }
        await this.propose(request.id, out, nodeId);
        await this.maybeStartAttempt(request.id, await this.keyOf(current.keyId), out);
      });
    }
  }

  // ------------------------------------------------------------------ node frames (ROAST, see docs/protocol.md §7)

  /** A node's first commitment to a request, or a fresh one after a blameless refusal or a reconnect. */
  async handleCommit(nodeId: string, frame: RequestCommitFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out) => {
      const { request, key, member } = await this.openForNode(frame.requestId, nodeId);
      const live = await this.store.read.commitments.listLiveForNode(request.id, nodeId);
      if (live.some((c) => c.status === 'ready' && sameCommitment(c, frame.commitment))) return 'duplicate';
      if (live.length > 0) {
        // ROAST: a node is either ready (one commitment) or owes one attempt a share; a further commitment
        // is a second nonce offered for the same slot, which only a misbehaving node sends.
        const owed = live.find((c) => c.status === 'assigned');
        const detail = owed ? `a new commitment while it owes attempt ${owed.attemptId} a share` : 'a second commitment while its first is unused';
        return this.misbehaved(
          request,
          { nodeId, reason: 'unsolicited_frame', detail, ...(owed?.attemptId ? { attemptId: owed.attemptId } : {}) },
          new DomainError('COMMITMENT_CONFLICT', detail),
          out,
        );
      }
      try {
        return await this.acceptCommitment(request, key, member.identifier, nodeId, frame.commitment, out);
      } catch (e) {
        // Not stored (the database failed, say): the node may be asked again by the request's next event.
        if (!(e instanceof Misbehaviour)) this.proposed.get(request.id)?.delete(nodeId);
        throw e;
      }
    }, current);
  }

  async handleDecline(nodeId: string, frame: RequestDeclineFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out): Promise<FrameOutcome> => {
      const { request, key } = await this.openRequest(frame.requestId);
      this.member(key, nodeId);
      if (isExcluded(request, nodeId)) return 'duplicate';
      await this.exclude(request, [{ nodeId, reason: 'declined', detail: `${frame.code}: ${frame.reason}` }], out, async (tx) => {
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'request.declined', 'success', request, null, nodeId),
          details: { code: frame.code, reason: frame.reason },
        });
      });
      await this.settle(request.id, out);
      return 'accepted';
    }, current);
  }

  async handleShare(nodeId: string, frame: AttemptShareFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out): Promise<FrameOutcome> => {
      const { request, key, member } = await this.openForNode(frame.requestId, nodeId);
      const attempt = await this.owedAttempt(request, nodeId, frame.attemptId, out);
      try {
        getSuite(key.suite).assertScalar(frame.share, 'signature share');
      } catch (e) {
        const detail = `malformed share: ${(e as Error).message}`;
        return this.misbehaved(request, { nodeId, reason: 'malformed_share', attemptId: attempt.id, detail }, new DomainError('SHARE_MALFORMED', detail), out);
      }
      const late = attempt.status !== 'signing';
      await this.store.transaction(async (tx) => {
        await tx.shares.insertOrGet({
          attemptId: attempt.id,
          requestId: request.id,
          nodeId,
          identifier: member.identifier,
          share: frame.share,
          valid: null,
          receivedAt: new Date(),
        });
        await tx.commitments.markUsed(request.id, attempt.id, nodeId);
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'share.received', 'success', request, attempt.id, nodeId),
          details: { identifier: member.identifier, shareHash: sha256Hex(frame.share), ...(late ? { attemptStatus: attempt.status } : {}) },
        });
      });
      // ROAST: the answer to one attempt makes the node ready for the next. It is stored before the attempt
      // is judged, so that nothing in between asks the node for a commitment it has already sent.
      let rejected: Misbehaviour | undefined;
      if (frame.nextCommitment) {
        try {
          await this.acceptCommitment(request, key, member.identifier, nodeId, frame.nextCommitment, out, false);
        } catch (e) {
          // The share stands (and may complete the attempt); only the node's next commitment is refused.
          if (!(e instanceof Misbehaviour)) throw e;
          rejected = e;
        }
      }
      let judged = false;
      if (!late) {
        const shares = await this.store.read.shares.listForAttempt(request.id, attempt.id);
        if (shares.length === attempt.participants.length) {
          await this.finishAttempt(request.id, attempt.id, out);
          judged = true;
        }
      }
      if (rejected) throw rejected;
      if (judged) {
        // The attempt's outcome may have completed or failed the request, or excluded this node.
        const now = await this.store.read.requests.findById(request.id);
        if (!now || isTerminalRequest(now.status) || isExcluded(now, nodeId)) return 'accepted';
      }
      if (!frame.nextCommitment) await this.propose(request.id, out, nodeId);
      await this.maybeStartAttempt(request.id, key, out);
      return 'accepted';
    }, current);
  }

  async handleRefuse(nodeId: string, frame: AttemptRefuseFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out): Promise<FrameOutcome> => {
      const { request } = await this.openForNode(frame.requestId, nodeId);
      const attempt = await this.owedAttempt(request, nodeId, frame.attemptId, out);
      const counter = `${request.id}:${nodeId}`;
      const count = (this.refusals.get(counter) ?? 0) + 1;
      this.refusals.set(counter, count);
      const blameless = BLAMELESS_REFUSALS.includes(frame.code) && count <= MAX_BLAMELESS_REFUSALS;
      const refused = async (tx: Repositories) => {
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'attempt.refused', 'failure', request, attempt.id, nodeId),
          details: { code: frame.code, reason: frame.reason, blamed: !blameless },
        });
      };
      if (!blameless) {
        await this.exclude(request, [{ nodeId, reason: 'refused_package', attemptId: attempt.id, detail: frame.code }], out, refused);
        await this.settle(request.id, out);
        return 'accepted';
      }
      // The node lost its nonce (a restart, say): the attempt cannot complete, and nobody is to blame.
      const reason = `node ${nodeId} refused the signing package: ${frame.code} (${frame.reason})`;
      const ends = attempt.status === 'signing';
      await this.store.transaction(async (tx) => {
        const now = new Date();
        await tx.commitments.burnForRequest(request.id, nodeId);
        if (ends) await this.endAttempt(tx, request, attempt, 'failed', reason, now);
        await refused(tx);
      });
      if (ends) this.abortFrames(request.id, attempt, reason, [nodeId], out);
      await this.settle(request.id, out);
      return 'accepted';
    }, current);
  }

  // ------------------------------------------------------------------ steps (run under the request's mutex)

  /**
   * Validates and stores a commitment that makes the node ready (ROAST's R). A commitment with the wrong
   * identifier, an invalid element, or one ever used with this key gets the node excluded.
   */
  private async acceptCommitment(
    request: SigningRequestRecord,
    key: KeyRecord,
    identifier: string,
    nodeId: string,
    c: NonceCommitment,
    out: Outbox,
    start = true,
  ): Promise<FrameOutcome> {
    const bad = (reason: 'invalid_commitment' | 'reused_commitment', code: 'IDENTIFIER_MISMATCH' | 'COMMITMENT_INVALID' | 'COMMITMENT_REUSED', detail: string) =>
      this.misbehaved(request, { nodeId, reason, detail }, new DomainError(code, detail), out);
    if (c.identifier !== identifier) {
      return bad('invalid_commitment', 'IDENTIFIER_MISMATCH', 'commitment identifier is not the one this node holds in the key');
    }
    try {
      assertValidCommitment(key.publicPackage, c);
    } catch (e) {
      if (e instanceof CryptoValidationError) return bad('invalid_commitment', 'COMMITMENT_INVALID', e.message);
      throw e;
    }
    const record: CommitmentRecord = {
      id: randomUUID(),
      keyId: key.id,
      requestId: request.id,
      nodeId,
      identifier: c.identifier,
      hiding: c.hiding,
      binding: c.binding,
      status: 'ready',
      attemptId: null,
      receivedAt: new Date(),
    };
    try {
      await this.store.transaction(async (tx) => {
        await tx.commitments.insert(record);
        if (request.status === 'pending') await tx.requests.update(request.id, { status: 'committing', updatedAt: record.receivedAt });
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'commitment.received', 'success', request, null, nodeId),
          details: { identifier: c.identifier, commitmentHash: commitmentHash(c) },
        });
      });
    } catch (e) {
      if (e instanceof CommitmentReusedError) {
        return bad('reused_commitment', 'COMMITMENT_REUSED', `nonce commitment ${commitmentHash(c)} was already used with this key`);
      }
      throw e;
    }
    this.proposed.get(request.id)?.delete(nodeId);
    if (start) await this.maybeStartAttempt(request.id, key, out);
    return 'accepted';
  }

  /**
   * The attempt a share or refusal answers, which must be one the node owes an answer: in this request,
   * listing the node, its commitment assigned there and not yet answered. Anything else is a frame the
   * coordinator never asked for, and gets the node excluded.
   */
  private async owedAttempt(request: SigningRequestRecord, nodeId: string, attemptId: string, out: Outbox): Promise<AttemptRecord> {
    const unsolicited = (code: 'ATTEMPT_NOT_FOUND' | 'NOT_IN_SIGNER_SET' | 'SHARE_CONFLICT', detail: string, attempt?: string): Promise<never> =>
      this.misbehaved(request, { nodeId, reason: 'unsolicited_frame', detail, ...(attempt ? { attemptId: attempt } : {}) }, new DomainError(code, detail), out);
    const attempt = await this.store.read.attempts.findById(request.id, attemptId);
    if (!attempt) {
      const elsewhere = await this.store.read.attempts.findByIdAnyRequest(attemptId);
      return unsolicited('ATTEMPT_NOT_FOUND', elsewhere ? `an answer for attempt ${attemptId} of another request` : `an answer for unknown attempt ${attemptId}`);
    }
    if (!attempt.participants.includes(nodeId)) {
      return unsolicited('NOT_IN_SIGNER_SET', `an answer for attempt ${attempt.seq}, which it is not in`, attempt.id);
    }
    const live = await this.store.read.commitments.listLiveForNode(request.id, nodeId);
    if (!live.some((c) => c.status === 'assigned' && c.attemptId === attempt.id)) {
      return unsolicited('SHARE_CONFLICT', `a second answer for attempt ${attempt.seq}`, attempt.id);
    }
    return attempt;
  }

  /**
   * Starts attempts (ROAST): whenever t eligible, connected signers are ready, with the earliest-ready t.
   * While an attempt runs, the next one waits until it stalls (`overtakeAt`), so a healthy attempt is not
   * doubled; a stalled one is not waited for long. A signer whose share in a running
   * attempt has not been checked yet is checked before it joins another, so a node that sent an invalid
   * share blocks at most one attempt: with t honest signers a request needs at most n-t+1 attempts.
   */
  private async maybeStartAttempt(requestId: string, key: KeyRecord, out: Outbox): Promise<void> {
    for (;;) {
      const request = await this.store.read.requests.findById(requestId);
      if (!request || isTerminalRequest(request.status)) return;
      const ready = await this.readySigners(request);
      if (ready.length < key.threshold) return;
      const attempts = await this.store.read.attempts.listForRequest(requestId);
      const running = attempts.filter((a) => a.status === 'signing');
      const waitUntil = running.length > 0 ? await this.overtakeAt(requestId, running) : 0;
      if (waitUntil > Date.now()) {
        this.timers.schedule(`stagger:${requestId}`, new Date(waitUntil), () =>
          this.withRequest(requestId, (next) => this.maybeStartAttempt(requestId, key, next)),
        );
        return;
      }
      const chosen = ready.slice(0, key.threshold);
      if (await this.excludeUnverified(request, key, attempts, chosen.map((c) => c.nodeId), out)) {
        await this.settle(requestId, out, false);
        continue;
      }
      await this.startAttempt(request, key, chosen, out);
    }
  }

  /**
   * When another attempt may start beside the running ones: once the newest has gone `attemptStaggerMs`
   * without progress (since it started, or since its latest share), and at the latest 10 staggers after it
   * started. An attempt whose shares keep arriving is not doubled; a stalled one is overtaken.
   */
  private async overtakeAt(requestId: string, running: AttemptRecord[]): Promise<number> {
    const stagger = this.settings.attemptStaggerMs;
    if (stagger === 0) return 0;
    const newest = running.reduce((a, b) => (b.startedAt > a.startedAt ? b : a));
    const shares = await this.store.read.shares.listForAttempt(requestId, newest.id);
    const progress = Math.max(newest.startedAt.getTime(), ...shares.map((x) => x.receivedAt.getTime()));
    return Math.min(progress + stagger, newest.startedAt.getTime() + 10 * stagger);
  }

  /** Eligible, connected nodes' ready commitments, earliest first (one per node). */
  private async readySigners(request: SigningRequestRecord): Promise<CommitmentRecord[]> {
    const seen = new Set<string>();
    const ready: CommitmentRecord[] = [];
    for (const c of await this.store.read.commitments.listReady(request.id)) {
      if (seen.has(c.nodeId) || isExcluded(request, c.nodeId) || !this.link.isConnected(c.nodeId)) continue;
      seen.add(c.nodeId);
      ready.push(c);
    }
    return ready;
  }

  /**
   * Verifies the not-yet-judged shares that `nodes` sent to attempts that did not complete (still running,
   * or ended before their shares were judged); excludes the senders of invalid ones.
   */
  private async excludeUnverified(
    request: SigningRequestRecord,
    key: KeyRecord,
    attempts: readonly AttemptRecord[],
    nodes: string[],
    out: Outbox,
  ): Promise<boolean> {
    const message = hexToBytes(request.message);
    const verdicts: { attempt: AttemptRecord; share: ShareRecord; valid: boolean }[] = [];
    for (const attempt of attempts) {
      if (attempt.status === 'completed') continue;
      for (const share of await this.store.read.shares.listForAttempt(request.id, attempt.id)) {
        if (share.valid !== null || !nodes.includes(share.nodeId)) continue;
        const valid = verifySignatureShare(key.publicPackage, attempt.commitments, message, share.identifier, share.share);
        verdicts.push({ attempt, share, valid });
      }
    }
    if (verdicts.length === 0) return false;
    const invalid = verdicts.filter((v) => !v.valid);
    const judge = async (tx: Repositories) => {
      for (const v of verdicts) await tx.shares.setValidity(request.id, v.attempt.id, v.share.nodeId, v.valid);
      for (const v of invalid) {
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'share.rejected', 'failure', request, v.attempt.id, v.share.nodeId),
          details: { culprit: v.share.nodeId, reason: 'invalid_share', identifier: v.share.identifier, shareHash: sha256Hex(v.share.share) },
        });
      }
    };
    if (invalid.length === 0) {
      await this.store.transaction(judge);
      return false;
    }
    await this.exclude(request, invalid.map((v) => ({ nodeId: v.share.nodeId, reason: 'invalid_share' as const, attemptId: v.attempt.id })), out, judge);
    return true;
  }

  private async startAttempt(request: SigningRequestRecord, key: KeyRecord, chosen: CommitmentRecord[], out: Outbox): Promise<void> {
    const sorted = sortCommitments(key.suite, chosen);
    const attempt = await this.store.transaction(async (tx) => {
      const locked = (await tx.requests.findByIdForUpdate(request.id))!;
      const now = new Date();
      const started: AttemptRecord = {
        id: randomUUID(),
        requestId: request.id,
        seq: locked.attemptCount + 1,
        status: 'signing',
        participants: sorted.map((c) => c.nodeId),
        commitments: sorted.map(({ identifier, hiding, binding }): CommitmentHex => ({ identifier, hiding, binding })),
        // ROAST needs no per-attempt timeout: a stalled attempt is overtaken by the next one.
        deadline: locked.deadline,
        startedAt: now,
        endedAt: null,
        failureReason: null,
      };
      await tx.attempts.insert(started);
      await tx.commitments.assign(request.id, sorted.map((c) => c.id), started.id);
      await tx.requests.update(request.id, { status: 'signing', attemptCount: started.seq, updatedAt: now });
      await tx.audit.append({
        ...this.event(SYSTEM_ACTOR, 'attempt.started', 'success', request, started.id),
        details: {
          seq: started.seq,
          participants: started.participants,
          commitmentListHash: sha256Hex(canonicalJson(started.commitments)),
          deadline: started.deadline.toISOString(),
        },
      });
      return started;
    });
    for (const nodeId of attempt.participants) out.push([nodeId, this.packageFrame(request, attempt)]);
  }

  /** All t shares are in: aggregate on the optimistic path; on failure name and exclude every culprit. */
  private async finishAttempt(requestId: string, attemptId: string, out: Outbox): Promise<void> {
    const request = (await this.store.read.requests.findById(requestId))!;
    const attempt = (await this.store.read.attempts.findById(requestId, attemptId))!;
    const key = await this.keyOf(request.keyId);
    const shares = await this.store.read.shares.listForAttempt(requestId, attemptId);
    const byIdentifier = Object.fromEntries(shares.map((s) => [s.identifier, s.share]));
    const result = aggregateOrBlame(key.publicPackage, attempt.commitments, hexToBytes(request.message), byIdentifier);
    if (result.ok) {
      const others = (await this.store.read.attempts.listForRequest(requestId)).filter((a) => a.status === 'signing' && a.id !== attemptId);
      await this.store.transaction(async (tx) => {
        const now = new Date();
        for (const s of shares) await tx.shares.setValidity(requestId, attemptId, s.nodeId, true);
        await tx.attempts.update(requestId, attemptId, { status: 'completed', endedAt: now });
        for (const a of others) await tx.attempts.update(requestId, a.id, { status: 'aborted', endedAt: now, failureReason: `attempt ${attempt.seq} completed the request` });
        await tx.commitments.burnForRequest(requestId);
        await tx.requests.update(requestId, { status: 'completed', signature: result.signature, completedAt: now, updatedAt: now });
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'signature.produced', 'success', request, attemptId),
          details: {
            signature: result.signature,
            groupPublicKey: key.groupPublicKey,
            messageHash: sha256Hex(hexToBytes(request.message)),
            attempts: request.attemptCount,
          },
        });
      });
      this.closeRequest(request, key, 'completed', undefined, out);
      return;
    }
    const byIdentifierRecord = new Map(shares.map((s) => [s.identifier, s]));
    const blamed: Culprit[] = result.culprits.map((c) => ({ nodeId: byIdentifierRecord.get(c.identifier)!.nodeId, reason: c.reason, attemptId }));
    await this.exclude(request, blamed, out, async (tx) => {
      const now = new Date();
      for (const s of shares) {
        await tx.shares.setValidity(requestId, attemptId, s.nodeId, !result.culprits.some((c) => c.identifier === s.identifier));
      }
      await this.endAttempt(tx, request, attempt, 'failed', result.message, now);
      for (const c of blamed) {
        const share = shares.find((s) => s.nodeId === c.nodeId)!;
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'share.rejected', 'failure', request, attemptId, c.nodeId),
          details: { culprit: c.nodeId, reason: c.reason, identifier: share.identifier, shareHash: sha256Hex(share.share) },
        });
      }
    });
    await this.settle(requestId, out);
  }

  /** Ends a running attempt inside `tx` (its members who still owe an answer keep owing it) and audits it. */
  private async endAttempt(tx: Repositories, request: SigningRequestRecord, attempt: AttemptRecord, status: 'failed' | 'aborted', reason: string, now: Date): Promise<void> {
    await tx.attempts.update(request.id, attempt.id, { status, endedAt: now, failureReason: reason });
    const stillRunning = (await tx.attempts.listForRequest(request.id)).some((a) => a.status === 'signing');
    if (!stillRunning) await tx.requests.update(request.id, { status: 'committing', updatedAt: now });
    await tx.audit.append({
      ...this.event(SYSTEM_ACTOR, 'attempt.failed', 'failure', request, attempt.id),
      details: { reason, seq: attempt.seq, status },
    });
  }

  private abortFrames(requestId: string, attempt: AttemptRecord, reason: string, skip: string[], out: Outbox): void {
    for (const p of attempt.participants) {
      if (!skip.includes(p)) out.push([p, { type: 'attempt.abort', requestId, attemptId: attempt.id, reason: reasonText(reason) }]);
    }
  }

  /**
   * ROAST's mark(i), for several nodes at once, in one transaction with `also`: each is excluded from the
   * request for good, its unused commitments burn, and every running attempt that cannot complete any more
   * because of it ends.
   */
  private async exclude(request: SigningRequestRecord, culprits: Culprit[], out: Outbox, also?: (tx: Repositories) => Promise<void>): Promise<void> {
    const current = (await this.store.read.requests.findById(request.id))!;
    if (isTerminalRequest(current.status)) return;
    const fresh = culprits.filter((c, i) => !isExcluded(current, c.nodeId) && culprits.findIndex((d) => d.nodeId === c.nodeId) === i);
    // The running attempts that cannot complete any more: those a culprit still owes its share, and those
    // holding a share of its that is known to be bad. (One it answered well may still complete.)
    const running = (await this.store.read.attempts.listForRequest(request.id)).filter((a) => a.status === 'signing');
    const owed = new Set<string>();
    for (const c of fresh) {
      for (const live of await this.store.read.commitments.listLiveForNode(request.id, c.nodeId)) {
        if (live.status === 'assigned' && live.attemptId) owed.add(`${live.attemptId}:${c.nodeId}`);
      }
    }
    const blocks = (a: AttemptRecord, c: Culprit) =>
      owed.has(`${a.id}:${c.nodeId}`) || (c.attemptId === a.id && (c.reason === 'invalid_share' || c.reason === 'malformed_share'));
    const ended = running.filter((a) => fresh.some((c) => blocks(a, c)));
    await this.store.transaction(async (tx) => {
      const now = new Date();
      if (also) await also(tx);
      for (const c of fresh) await tx.commitments.burnForRequest(request.id, c.nodeId);
      await tx.requests.update(request.id, { culprits: [...current.culprits, ...fresh], updatedAt: now });
      for (const a of ended) {
        const who = fresh.filter((c) => blocks(a, c)).map((c) => c.nodeId);
        const latest = await tx.attempts.findById(request.id, a.id);
        if (latest?.status === 'signing') await this.endAttempt(tx, request, a, 'failed', `excluded signer(s) in this attempt: ${who.join(', ')}`, now);
      }
      for (const c of fresh) {
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'signer.excluded', 'failure', request, c.attemptId ?? null, c.nodeId),
          details: { reason: c.reason, detail: c.detail ?? null, endedAttempts: ended.filter((a) => blocks(a, c)).map((a) => a.id) },
        });
      }
    });
    for (const c of fresh) this.proposed.get(request.id)?.delete(c.nodeId);
    for (const a of ended) this.abortFrames(request.id, a, 'a signer of this attempt was excluded', fresh.map((c) => c.nodeId), out);
  }

  /** Excludes the node, carries on with the request, then has the gateway answer it with `error`. */
  private async misbehaved(request: SigningRequestRecord, culprit: Culprit, error: DomainError, out: Outbox): Promise<never> {
    await this.exclude(request, [culprit], out);
    await this.settle(request.id, out);
    throw new Misbehaviour(new DomainError(error.code, `excluded from request ${request.id}: ${error.message}`, error.details));
  }

  private async onRequestDeadline(requestId: string): Promise<void> {
    await this.withRequest(requestId, async (out) => {
      const request = await this.store.read.requests.findById(requestId);
      if (!request || isTerminalRequest(request.status)) return;
      const key = await this.keyOf(request.keyId);
      const attempts = await this.store.read.attempts.listForRequest(requestId);
      const silent = await this.neverAnswered(request, key);
      const reason =
        `deadline passed after ${attempts.length} attempt(s)` + describeExcluded(request.culprits) + (silent.length ? `; never answered: ${silent.join(', ')}` : '');
      await this.endRequest(request, key, {
        status: 'expired',
        code: 'REQUEST_EXPIRED',
        reason,
        culprits: [...request.culprits, ...silent.map((nodeId): Culprit => ({ nodeId, reason: 'unresponsive' }))],
        attemptStatus: 'timed_out',
        attemptReason: 'request deadline passed',
        details: { reason, silent, attempts: attempts.length },
      }, out);
    });
  }

  /** Members not excluded that never committed, or that still owe an attempt their share. */
  private async neverAnswered(request: SigningRequestRecord, key: KeyRecord): Promise<string[]> {
    const attempts = await this.store.read.attempts.listForRequest(request.id);
    const ready = new Set((await this.store.read.commitments.listReady(request.id)).map((c) => c.nodeId));
    const silent: string[] = [];
    for (const m of key.members) {
      if (isExcluded(request, m.nodeId)) continue;
      const live = await this.store.read.commitments.listLiveForNode(request.id, m.nodeId);
      const owes = live.some((c) => c.status === 'assigned');
      const everIn = attempts.some((a) => a.participants.includes(m.nodeId));
      if (owes || (!everIn && !ready.has(m.nodeId))) silent.push(m.nodeId);
    }
    return silent;
  }

  /**
   * After a change: fail the request once fewer than t members remain non-excluded (ROAST: |M| > n-t);
   * otherwise ask idle members for commitments and start what can start.
   */
  private async settle(requestId: string, out: Outbox, start = true): Promise<void> {
    const request = (await this.store.read.requests.findById(requestId))!;
    if (isTerminalRequest(request.status)) return;
    const key = await this.keyOf(request.keyId);
    const eligible = key.members.filter((m) => !isExcluded(request, m.nodeId)).length;
    if (eligible < key.threshold) {
      const silent = await this.neverAnswered(request, key);
      const reason =
        `only ${eligible} of the ${key.threshold} required signers remain` + describeExcluded(request.culprits) + (silent.length ? `; never answered: ${silent.join(', ')}` : '');
      await this.endRequest(request, key, {
        status: 'failed',
        code: 'NOT_ENOUGH_SIGNERS',
        reason,
        culprits: request.culprits,
        attemptStatus: 'failed',
        attemptReason: 'not enough signers remain',
        details: { code: 'NOT_ENOUGH_SIGNERS', reason, culprits: request.culprits.map((c) => ({ ...c })), silent },
      }, out);
      return;
    }
    await this.propose(requestId, out);
    if (start) await this.maybeStartAttempt(requestId, key, out);
  }

  /**
   * Sends the proposal to eligible connected members that are neither ready, nor owe an attempt a share,
   * nor already asked on their current connection (or to one node, after it reconnected).
   */
  private async propose(requestId: string, out: Outbox, onlyNode?: string): Promise<void> {
    const request = await this.store.read.requests.findById(requestId);
    if (!request || isTerminalRequest(request.status)) return;
    const key = await this.keyOf(request.keyId);
    let asked = this.proposed.get(requestId);
    if (!asked) this.proposed.set(requestId, (asked = new Map<string, number>()));
    const targets: string[] = [];
    for (const m of key.members) {
      if (onlyNode !== undefined && m.nodeId !== onlyNode) continue;
      const connection = this.link.connection(m.nodeId);
      if (isExcluded(request, m.nodeId) || !connection || asked.get(m.nodeId) === connection.id) continue;
      const live = await this.store.read.commitments.listLiveForNode(requestId, m.nodeId);
      if (live.length > 0) continue;
      targets.push(m.nodeId);
    }
    if (targets.length === 0) return;
    await this.store.transaction(async (tx) => {
      const now = new Date();
      if (request.status === 'pending') await tx.requests.update(requestId, { status: 'committing', updatedAt: now });
      await tx.audit.append({ ...this.event(SYSTEM_ACTOR, 'request.proposed', 'success', request), details: { nodes: targets } });
    });
    for (const nodeId of targets) {
      const connection = this.link.connection(nodeId);
      if (connection) asked.set(nodeId, connection.id);
      out.push([
        nodeId,
        {
          type: 'request.propose',
          requestId,
          keyId: key.id,
          suite: key.suite,
          threshold: key.threshold,
          message: request.message,
          messageEncoding: request.messageEncoding,
          description: request.description,
          deadline: request.deadline.getTime(),
        },
      ]);
    }
  }

  /** Ends a request without a signature: running attempts end, every commitment burns, nodes are told. */
  private async endRequest(
    request: SigningRequestRecord,
    key: KeyRecord,
    end: {
      status: 'failed' | 'expired';
      code: string;
      reason: string;
      culprits: Culprit[];
      attemptStatus: 'failed' | 'timed_out';
      attemptReason: string;
      details: Record<string, unknown>;
    },
    out: Outbox,
  ): Promise<void> {
    await this.store.transaction(async (tx) => {
      const now = new Date();
      for (const a of await tx.attempts.listForRequest(request.id)) {
        if (a.status === 'signing') await tx.attempts.update(request.id, a.id, { status: end.attemptStatus, endedAt: now, failureReason: end.attemptReason });
      }
      await tx.commitments.burnForRequest(request.id);
      await tx.requests.update(request.id, {
        status: end.status,
        failureCode: end.code,
        failureReason: end.reason,
        culprits: end.culprits,
        completedAt: now,
        updatedAt: now,
      });
      await tx.audit.append({
        ...this.event(SYSTEM_ACTOR, end.status === 'expired' ? 'request.expired' : 'request.failed', 'failure', request),
        details: end.details,
      });
    });
    this.closeRequest(request, key, end.status, end.reason, out);
  }

  private closeRequest(request: SigningRequestRecord, key: KeyRecord, status: 'completed' | 'failed' | 'expired', reason: string | undefined, out: Outbox) {
    this.timers.clear(`request:${request.id}`);
    this.timers.clear(`stagger:${request.id}`);
    this.proposed.delete(request.id);
    for (const m of key.members) this.refusals.delete(`${request.id}:${m.nodeId}`);
    // Called after the final state committed; waiters re-read it from the database.
    queueMicrotask(() => this.settled.emit(request.id));
    for (const m of key.members) {
      out.push([m.nodeId, { type: 'request.closed', requestId: request.id, status, ...(reason ? { reason: reasonText(reason) } : {}) }]);
    }
  }

  // ------------------------------------------------------------------ lookups that enforce replay rules

  private async openRequest(requestId: string): Promise<{ request: SigningRequestRecord; key: KeyRecord }> {
    const request = await this.store.read.requests.findById(requestId);
    if (!request) throw new DomainError('REQUEST_NOT_FOUND', `signing request ${requestId} not found`);
    if (isTerminalRequest(request.status)) {
      throw new DomainError('REQUEST_FINISHED', `signing request ${requestId} is ${request.status}`);
    }
    if (request.deadline.getTime() <= Date.now()) throw new DomainError('REQUEST_EXPIRED', `signing request ${requestId} has expired`);
    const key = await this.keyOf(request.keyId);
    return { request, key };
  }

  private member(key: KeyRecord, nodeId: string) {
    const member = key.members.find((m) => m.nodeId === nodeId);
    if (!member) throw new DomainError('NOT_A_MEMBER', `node does not hold a share of key ${key.id}`);
    return member;
  }

  /** An open request, for a frame of a node that holds a share of its key and is not excluded from it. */
  private async openForNode(requestId: string, nodeId: string) {
    const { request, key } = await this.openRequest(requestId);
    const member = this.member(key, nodeId);
    const excluded = request.culprits.find((c) => c.nodeId === nodeId);
    if (excluded) throw new DomainError('NOT_IN_SIGNER_SET', `node is excluded from this request (${excluded.reason})`);
    return { request, key, member };
  }

  // ------------------------------------------------------------------ plumbing

  private async keyOf(keyId: string): Promise<KeyRecord> {
    const cached = this.keyCache.get(keyId);
    if (cached) return cached;
    const key = await this.store.read.keys.findById(keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${keyId} not found`);
    if (this.keyCache.size >= 10_000) this.keyCache.clear();
    this.keyCache.set(keyId, key);
    return key;
  }

  private packageFrame(request: SigningRequestRecord, attempt: AttemptRecord): Outgoing<CoordinatorFrame> {
    return {
      type: 'attempt.package',
      requestId: request.id,
      attemptId: attempt.id,
      keyId: request.keyId,
      message: request.message,
      commitments: attempt.commitments,
      deadline: attempt.deadline.getTime(),
    };
  }

  private event(
    actor: Actor,
    action: Parameters<Repositories['audit']['append']>[0]['action'],
    outcome: 'success' | 'failure',
    request: SigningRequestRecord,
    attemptId: string | null = null,
    nodeId: string | null = null,
  ) {
    return { occurredAt: new Date(), actorKind: actor.kind, actorId: actor.id, action, outcome, keyId: request.keyId, requestId: request.id, attemptId, nodeId };
  }

  /**
   * Runs under the request's mutex; frames leave after the work; a Misbehaviour becomes its error, after
   * them. For a node frame, `current` tells whether its connection is still the node's live one once the
   * lock is held: a frame of a connection that has since closed or been replaced is dropped, since the
   * coordinator has already asked again, on the new connection, for what it still expects.
   */
  private async withRequest<T>(requestId: string, work: (out: Outbox) => Promise<T>, current: () => boolean = always): Promise<T> {
    let rejection: DomainError | undefined;
    const result = await runThenSend(this.mutex, this.link, requestId, async (out) => {
      if (!current()) throw new DomainError('UNEXPECTED_FRAME', 'the connection this frame came on has closed; it is dropped');
      try {
        return await work(out);
      } catch (e) {
        if (!(e instanceof Misbehaviour)) throw e;
        rejection = e.error;
        return undefined as T;
      }
    });
    if (rejection) throw rejection;
    return result;
  }

  private scheduleExpiry(request: SigningRequestRecord): void {
    this.timers.schedule(`request:${request.id}`, request.deadline, () => this.onRequestDeadline(request.id));
  }

}

/** The exact bytes to sign, hex, from the request's message and encoding. */
export function encodeMessage(message: string, encoding: 'hex' | 'utf8'): string {
  let hex: string;
  if (encoding === 'hex') {
    const clean = message.startsWith('0x') ? message.slice(2) : message;
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(clean)) throw new DomainError('VALIDATION_FAILED', 'message is not hex of whole bytes');
    hex = clean.toLowerCase();
  } else {
    hex = Buffer.from(utf8(message)).toString('hex');
  }
  if (hex.length === 0) throw new DomainError('VALIDATION_FAILED', 'message is empty');
  if (hex.length / 2 > MAX_MESSAGE_BYTES) throw new DomainError('VALIDATION_FAILED', `message exceeds ${MAX_MESSAGE_BYTES} bytes`);
  return hex;
}
