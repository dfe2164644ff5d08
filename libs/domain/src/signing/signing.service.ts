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
/** Unused commitments one node may hold per request. */
const MAX_LIVE_COMMITMENTS_PER_NODE = 4;
/** Reasons in frames are bounded by the protocol's schemas. */
const reasonText = (text: string): string => (text.length <= 500 ? text : `${text.slice(0, 497)}...`);

const commitmentHash = (c: { hiding: string; binding: string }): string => sha256Hex(`${c.hiding}${c.binding}`);

/**
 * Runs signing requests: proposal, nonce commitments, attempts (each with its own id and commitment
 * list), share validation with named culprits, aggregation and verification, timeouts and expiry.
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

  /** A node authenticated: resend what it may have missed and ask it for fresh commitments. */
  async onNodeConnected(nodeId: string): Promise<void> {
    const keys = await this.store.read.keys.listActiveForNode(nodeId);
    if (keys.length === 0) return;
    const keyIds = new Set(keys.map((k) => k.id));
    const open = (await this.store.read.requests.listOpen()).filter((r) => keyIds.has(r.keyId));
    for (const request of open) {
      await this.withRequest(request.id, async (out) => {
        const current = await this.store.read.requests.findById(request.id);
        if (!current || isTerminalRequest(current.status)) return;
        const active = await this.activeAttempt(this.store.read, request.id);
        const shares = active ? await this.store.read.shares.listForAttempt(request.id, active.id) : [];
        if (active && active.participants.includes(nodeId) && !shares.some((s) => s.nodeId === nodeId)) {
          // Its package may have been lost with the old connection; the node refuses it if its nonce is gone.
          out.push([nodeId, this.packageFrame(current, active)]);
        } else {
          // Unassigned commitments offered on an earlier connection may belong to a process that is gone.
          await this.store.transaction((tx) => tx.commitments.burnForRequest(request.id, nodeId));
        }
        await this.propose(request.id, out, nodeId);
      });
    }
  }

  // ------------------------------------------------------------------ node frames

  async handleCommit(nodeId: string, frame: RequestCommitFrame): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, (out) => this.acceptCommitment(nodeId, frame.requestId, frame.commitment, out));
  }

  async handleDecline(nodeId: string, frame: RequestDeclineFrame): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out): Promise<FrameOutcome> => {
      const { request, key } = await this.openRequest(frame.requestId);
      this.member(key, nodeId);
      // Already excluded (declined before, or blamed): nothing changes.
      if (request.culprits.some((c) => c.nodeId === nodeId)) return 'duplicate';
      const culprit: Culprit = { nodeId, reason: 'declined', detail: `${frame.code}: ${frame.reason}` };
      // A selected signer that declines ends its attempt at once rather than letting it time out.
      const active = await this.activeAttempt(this.store.read, request.id);
      const shares = active ? await this.store.read.shares.listForAttempt(request.id, active.id) : [];
      const endsAttempt = active !== null && active.participants.includes(nodeId) && !shares.some((s) => s.nodeId === nodeId);
      const reason = `node ${nodeId} declined: ${frame.code}`;
      await this.store.transaction(async (tx) => {
        const now = new Date();
        if (endsAttempt) {
          await tx.attempts.update(request.id, active.id, { status: 'failed', endedAt: now, failureReason: reason });
          await tx.commitments.burnForAttempt(request.id, active.id);
        }
        await tx.commitments.burnForRequest(request.id, nodeId);
        await tx.requests.update(request.id, {
          culprits: [...request.culprits, culprit],
          ...(endsAttempt ? { status: 'committing' as const } : {}),
          updatedAt: now,
        });
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'request.declined', 'success', request, endsAttempt ? active.id : null, nodeId),
          details: { code: frame.code, reason: frame.reason, endedAttempt: endsAttempt },
        });
      });
      if (endsAttempt) {
        this.timers.clear(`attempt:${active.id}`);
        for (const p of active.participants) {
          if (p !== nodeId) out.push([p, { type: 'attempt.abort', requestId: request.id, attemptId: active.id, reason: reasonText(reason) }]);
        }
      }
      await this.settle(request.id, out);
      return 'accepted';
    });
  }

  async handleShare(nodeId: string, frame: AttemptShareFrame): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out): Promise<FrameOutcome> => {
      const { request, attempt, index } = await this.liveAttempt(frame.requestId, frame.attemptId, nodeId);
      const commitment = attempt.commitments[index]!;
      const outcome = await this.store.transaction(async (tx): Promise<FrameOutcome> => {
        const { inserted, existing } = await tx.shares.insertOrGet({
          attemptId: attempt.id,
          requestId: request.id,
          nodeId,
          identifier: commitment.identifier,
          share: frame.share,
          valid: null,
          receivedAt: new Date(),
        });
        if (!inserted) {
          if (existing?.share === frame.share) return 'duplicate';
          throw new DomainError('SHARE_CONFLICT', 'a different share was already received from this node for this attempt', {
            attemptId: attempt.id,
          });
        }
        await tx.commitments.markUsed(request.id, attempt.id, nodeId);
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'share.received', 'success', request, attempt.id, nodeId),
          details: { identifier: commitment.identifier, shareHash: sha256Hex(frame.share) },
        });
        return 'accepted';
      });
      if (outcome === 'duplicate') return outcome;
      if (frame.nextCommitment) {
        try {
          await this.acceptCommitment(nodeId, request.id, frame.nextCommitment, out);
        } catch (e) {
          // The share stands; only the offered next commitment is refused.
          if (!(e instanceof DomainError)) throw e;
          out.push([nodeId, { type: 'error', code: e.code, message: `nextCommitment: ${e.message}`, inReplyTo: 'attempt.share', requestId: request.id, attemptId: attempt.id }]);
        }
      }
      const shares = await this.store.read.shares.listForAttempt(request.id, attempt.id);
      if (shares.length === attempt.participants.length) await this.finishAttempt(request.id, attempt.id, out);
      return 'accepted';
    });
  }

  async handleRefuse(nodeId: string, frame: AttemptRefuseFrame): Promise<FrameOutcome> {
    return this.withRequest(frame.requestId, async (out): Promise<FrameOutcome> => {
      const { request, attempt } = await this.liveAttempt(frame.requestId, frame.attemptId, nodeId);
      const counter = `${request.id}:${nodeId}`;
      const count = (this.refusals.get(counter) ?? 0) + 1;
      this.refusals.set(counter, count);
      const blameless = BLAMELESS_REFUSALS.includes(frame.code) && count <= MAX_BLAMELESS_REFUSALS;
      const reason = `node ${nodeId} refused the signing package: ${frame.code} (${frame.reason})`;
      await this.store.transaction(async (tx) => {
        const now = new Date();
        await tx.attempts.update(request.id, attempt.id, { status: 'failed', endedAt: now, failureReason: reason });
        await tx.commitments.burnForAttempt(request.id, attempt.id);
        const culprits = blameless
          ? request.culprits
          : [...request.culprits, { nodeId, reason: 'refused_package' as const, attemptId: attempt.id, detail: frame.code }];
        await tx.requests.update(request.id, { status: 'committing', culprits, updatedAt: now });
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'attempt.refused', 'failure', request, attempt.id, nodeId),
          details: { code: frame.code, reason: frame.reason, blamed: !blameless },
        });
      });
      this.timers.clear(`attempt:${attempt.id}`);
      for (const p of attempt.participants) {
        if (p !== nodeId) out.push([p, { type: 'attempt.abort', requestId: request.id, attemptId: attempt.id, reason: reasonText(reason) }]);
      }
      await this.settle(request.id, out);
      return 'accepted';
    });
  }

  // ------------------------------------------------------------------ steps (run under the request's mutex)

  private async acceptCommitment(nodeId: string, requestId: string, c: NonceCommitment, out: Outbox): Promise<FrameOutcome> {
    const { request, key } = await this.openRequest(requestId);
    const member = this.member(key, nodeId);
    const excluded = request.culprits.find((x) => x.nodeId === nodeId);
    if (excluded) {
      throw new DomainError('NOT_IN_SIGNER_SET', `node is excluded from this request (${excluded.reason})`);
    }
    if (c.identifier !== member.identifier) {
      throw new DomainError('IDENTIFIER_MISMATCH', 'commitment identifier is not the one this node holds in the key');
    }
    try {
      assertValidCommitment(key.publicPackage, c);
    } catch (e) {
      if (e instanceof CryptoValidationError) {
        await this.recordRejectedCommitment(request, nodeId, 'invalid', e.message);
        throw new DomainError('COMMITMENT_INVALID', e.message);
      }
      throw e;
    }
    const live = await this.store.read.commitments.listLiveForNode(request.id, nodeId);
    if (live.some((l) => l.hiding === c.hiding && l.binding === c.binding)) return 'duplicate';
    if (live.length >= MAX_LIVE_COMMITMENTS_PER_NODE) {
      throw new DomainError('COMMITMENT_CONFLICT', `node already holds ${live.length} unused commitments for this request`);
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
        await this.recordRejectedCommitment(request, nodeId, 'reused', commitmentHash(c));
        throw new DomainError('COMMITMENT_REUSED', 'this nonce commitment was already used with this key');
      }
      throw e;
    }
    await this.maybeStartAttempt(request.id, key, out);
    return 'accepted';
  }

  private async recordRejectedCommitment(request: SigningRequestRecord, nodeId: string, why: string, detail: string) {
    await this.store.transaction((tx) =>
      tx.audit.append({
        ...this.event({ kind: 'node', id: nodeId }, 'commitment.rejected', 'failure', request, null, nodeId),
        details: { reason: why, detail },
      }),
    );
  }

  /** Starts an attempt when t eligible signers have a ready commitment and none is running. */
  private async maybeStartAttempt(requestId: string, key: KeyRecord, out: Outbox): Promise<void> {
    const started = await this.store.transaction(async (tx) => {
      const request = await tx.requests.findByIdForUpdate(requestId);
      if (!request || (request.status !== 'pending' && request.status !== 'committing')) return null;
      const excluded = new Set(request.culprits.map((c) => c.nodeId));
      // The newest ready commitment of each eligible, connected node; earliest-ready nodes first.
      const latest = new Map<string, CommitmentRecord>();
      for (const c of await tx.commitments.listReady(requestId)) {
        if (!excluded.has(c.nodeId) && this.link.isConnected(c.nodeId)) latest.set(c.nodeId, c);
      }
      if (latest.size < key.threshold) return null;
      const chosen = [...latest.values()].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime()).slice(0, key.threshold);
      const sorted = sortCommitments(key.suite, chosen);
      const now = new Date();
      const attempt: AttemptRecord = {
        id: randomUUID(),
        requestId,
        seq: request.attemptCount + 1,
        status: 'signing',
        participants: sorted.map((c) => c.nodeId),
        commitments: sorted.map(({ identifier, hiding, binding }): CommitmentHex => ({ identifier, hiding, binding })),
        deadline: new Date(Math.min(now.getTime() + this.settings.attemptTimeoutMs, request.deadline.getTime())),
        startedAt: now,
        endedAt: null,
        failureReason: null,
      };
      await tx.attempts.insert(attempt);
      await tx.commitments.assign(requestId, sorted.map((c) => c.id), attempt.id);
      await tx.requests.update(requestId, { status: 'signing', attemptCount: attempt.seq, updatedAt: now });
      await tx.audit.append({
        ...this.event(SYSTEM_ACTOR, 'attempt.started', 'success', request, attempt.id),
        details: {
          seq: attempt.seq,
          participants: attempt.participants,
          commitmentListHash: sha256Hex(canonicalJson(attempt.commitments)),
          deadline: attempt.deadline.toISOString(),
        },
      });
      return { request, attempt };
    });
    if (!started) return;
    for (const nodeId of started.attempt.participants) out.push([nodeId, this.packageFrame(started.request, started.attempt)]);
    this.timers.schedule(`attempt:${started.attempt.id}`, started.attempt.deadline, () => this.onAttemptDeadline(requestId, started.attempt.id));
  }

  private async finishAttempt(requestId: string, attemptId: string, out: Outbox): Promise<void> {
    const request = (await this.store.read.requests.findById(requestId))!;
    const attempt = (await this.store.read.attempts.findById(requestId, attemptId))!;
    const key = await this.keyOf(request.keyId);
    const shares = await this.store.read.shares.listForAttempt(requestId, attemptId);
    const byIdentifier = Object.fromEntries(shares.map((s) => [s.identifier, s.share]));
    const result = aggregateOrBlame(key.publicPackage, attempt.commitments, hexToBytes(request.message), byIdentifier);
    this.timers.clear(`attempt:${attemptId}`);
    if (result.ok) {
      await this.store.transaction(async (tx) => {
        const now = new Date();
        for (const s of shares) await tx.shares.setValidity(requestId, attemptId, s.nodeId, true);
        await tx.attempts.update(requestId, attemptId, { status: 'completed', endedAt: now });
        await tx.commitments.burnForRequest(requestId);
        await tx.requests.update(requestId, { status: 'completed', signature: result.signature, completedAt: now, updatedAt: now });
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'signature.produced', 'success', request, attemptId),
          details: { signature: result.signature, groupPublicKey: key.groupPublicKey, messageHash: sha256Hex(hexToBytes(request.message)) },
        });
      });
      this.closeRequest(request, key, 'completed', undefined, out);
      return;
    }
    const byNode = new Map(shares.map((s) => [s.identifier, s]));
    const blamed: Culprit[] = result.culprits.map((c) => ({
      nodeId: byNode.get(c.identifier)!.nodeId,
      reason: c.reason,
      attemptId,
    }));
    await this.store.transaction(async (tx) => {
      const now = new Date();
      for (const s of shares) {
        await tx.shares.setValidity(requestId, attemptId, s.nodeId, !result.culprits.some((c) => c.identifier === s.identifier));
      }
      await tx.attempts.update(requestId, attemptId, { status: 'failed', endedAt: now, failureReason: result.message });
      await tx.commitments.burnForAttempt(requestId, attemptId);
      await tx.requests.update(requestId, { status: 'committing', culprits: [...request.culprits, ...blamed], updatedAt: now });
      for (const c of blamed) {
        const share = shares.find((s) => s.nodeId === c.nodeId)!;
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'share.rejected', 'failure', request, attemptId, c.nodeId),
          details: { culprit: c.nodeId, reason: c.reason, identifier: share.identifier, shareHash: sha256Hex(share.share) },
        });
      }
      await tx.audit.append({
        ...this.event(SYSTEM_ACTOR, 'attempt.failed', 'failure', request, attemptId),
        details: { reason: result.message, culprits: blamed.map((c) => c.nodeId) },
      });
    });
    await this.settle(requestId, out);
  }

  private async onAttemptDeadline(requestId: string, attemptId: string): Promise<void> {
    await this.withRequest(requestId, async (out) => {
      const request = await this.store.read.requests.findById(requestId);
      const attempt = await this.store.read.attempts.findById(requestId, attemptId);
      if (!request || !attempt || attempt.status !== 'signing' || isTerminalRequest(request.status)) return;
      const shares = await this.store.read.shares.listForAttempt(requestId, attemptId);
      const silent = attempt.participants.filter((p) => !shares.some((s) => s.nodeId === p));
      const reason = `no share in time from ${silent.join(', ')}`;
      await this.store.transaction(async (tx) => {
        const now = new Date();
        await tx.attempts.update(requestId, attemptId, { status: 'timed_out', endedAt: now, failureReason: reason });
        await tx.commitments.burnForAttempt(requestId, attemptId);
        const culprits = [...request.culprits, ...silent.map((nodeId): Culprit => ({ nodeId, reason: 'unresponsive', attemptId }))];
        await tx.requests.update(requestId, { status: 'committing', culprits, updatedAt: now });
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'attempt.timed_out', 'failure', request, attemptId),
          details: { silent, seq: attempt.seq },
        });
      });
      for (const p of attempt.participants) out.push([p, { type: 'attempt.abort', requestId, attemptId, reason: reasonText(reason) }]);
      await this.settle(requestId, out);
    });
  }

  private async onRequestDeadline(requestId: string): Promise<void> {
    await this.withRequest(requestId, async (out) => {
      const request = await this.store.read.requests.findById(requestId);
      if (!request || isTerminalRequest(request.status)) return;
      const key = await this.keyOf(request.keyId);
      const attempts = await this.store.read.attempts.listForRequest(requestId);
      const answered = new Set<string>(request.culprits.map((c) => c.nodeId));
      for (const a of attempts) a.participants.forEach((p) => answered.add(p));
      const ready = await this.store.read.commitments.listReady(requestId);
      ready.forEach((c) => answered.add(c.nodeId));
      const silent = key.members.map((m) => m.nodeId).filter((n) => !answered.has(n));
      const reason = `deadline passed after ${attempts.length} attempt(s)` + (silent.length ? `; never answered: ${silent.join(', ')}` : '');
      await this.endRequest(request, key, {
        status: 'expired',
        code: 'REQUEST_EXPIRED',
        reason,
        culprits: [...request.culprits, ...silent.map((nodeId): Culprit => ({ nodeId, reason: 'unresponsive' }))],
        attemptStatus: 'timed_out',
        attemptReason: 'request deadline passed',
        details: { reason, silent },
      }, out);
    });
  }

  /** After a setback: fail the request if fewer than t eligible signers remain, else try another attempt. */
  private async settle(requestId: string, out: Outbox): Promise<void> {
    const request = (await this.store.read.requests.findById(requestId))!;
    if (isTerminalRequest(request.status)) return;
    const key = await this.keyOf(request.keyId);
    const excluded = new Set(request.culprits.map((c) => c.nodeId));
    const eligible = key.members.filter((m) => !excluded.has(m.nodeId)).length;
    if (eligible < key.threshold) {
      const who = request.culprits.map((c) => `${c.nodeId} (${c.reason})`).join(', ');
      const reason = `only ${eligible} of the ${key.threshold} required signers remain; excluded: ${who}`;
      await this.endRequest(request, key, {
        status: 'failed',
        code: 'NOT_ENOUGH_SIGNERS',
        reason,
        culprits: request.culprits,
        attemptStatus: 'failed',
        attemptReason: 'not enough signers remain',
        details: { code: 'NOT_ENOUGH_SIGNERS', reason, culprits: request.culprits.map((c) => ({ ...c })) },
      }, out);
      return;
    }
    await this.propose(requestId, out);
    await this.maybeStartAttempt(requestId, key, out);
  }

  /** Sends the proposal to eligible connected members that hold no live commitment (or to one node). */
  private async propose(requestId: string, out: Outbox, onlyNode?: string): Promise<void> {
    const request = await this.store.read.requests.findById(requestId);
    if (!request || isTerminalRequest(request.status)) return;
    const key = await this.keyOf(request.keyId);
    const excluded = new Set(request.culprits.map((c) => c.nodeId));
    const targets: string[] = [];
    for (const m of key.members) {
      if (onlyNode !== undefined && m.nodeId !== onlyNode) continue;
      if (excluded.has(m.nodeId) || !this.link.isConnected(m.nodeId)) continue;
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

  private async liveAttempt(requestId: string, attemptId: string, nodeId: string) {
    const { request } = await this.openRequest(requestId);
    const attempt = await this.store.read.attempts.findById(requestId, attemptId);
    if (!attempt) {
      const elsewhere = await this.store.read.attempts.findByIdAnyRequest(attemptId);
      throw new DomainError(
        'ATTEMPT_NOT_FOUND',
        elsewhere ? `attempt ${attemptId} belongs to another request` : `attempt ${attemptId} not found`,
      );
    }
    if (attempt.status !== 'signing') throw new DomainError('ATTEMPT_FINISHED', `attempt ${attemptId} is ${attempt.status}`);
    if (request.culprits.some((c) => c.nodeId === nodeId)) {
      throw new DomainError('NOT_IN_SIGNER_SET', 'node is excluded from this request');
    }
    const index = attempt.participants.indexOf(nodeId);
    if (index < 0) throw new DomainError('NOT_IN_SIGNER_SET', `node is not a signer of attempt ${attemptId}`);
    return { request, attempt, index };
  }

  private async activeAttempt(repos: Repositories, requestId: string): Promise<AttemptRecord | null> {
    return (await repos.attempts.listForRequest(requestId)).find((a) => a.status === 'signing') ?? null;
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

  private withRequest<T>(requestId: string, work: (out: Outbox) => Promise<T>): Promise<T> {
    return runThenSend(this.mutex, this.link, requestId, work);
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
