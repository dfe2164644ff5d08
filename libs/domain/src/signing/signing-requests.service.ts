import { auditActor } from '../common/actor.js';
import { Inject, Injectable } from '@nestjs/common';
import { DOMAIN_SETTINGS, type Actor, type DomainSettings } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import { isTerminalRequest, type AttemptRecord, type SigningRequestRecord } from '../records.js';
import type { DecisionView } from './decision-views.js';
import { createdDetails, newRequestRecord, proposerOf, takeIn, type CreateRequestInput, type Intake } from './intent-intake.js';
import { isOwnedBy } from './request-owner.js';
import { listRequestViews, loadRequestView, viewOfRequest, type RequestListFilter } from './request-views.js';
import { SigningService } from './signing.service.js';
import { requestPendingEvent } from '../webhooks/webhook-events.js';

export interface RequestView {
  request: SigningRequestRecord;
  attempts: AttemptRecord[];
  groupPublicKey: string;
  suite: string;
  /** One per member of the request's key, in the key's member order (decision-views.ts). */
  decisions: DecisionView[];
}

/** Limits what a caller sees: a proposer reads only its own requests (another's reads as REQUEST_NOT_FOUND). */
export interface ViewScope {
  /** `admin` or `principal:<id>`: only requests this proposer made. */
  proposer?: string;
}

/** How often a long-poll looks at the database again (another coordinator instance may finish the request). */
const LONG_POLL_RECHECK_MS = 1_000;

/** Replay conflicts the database's unique keys decide (migration 0005), for a request that lost a race. */
const REPLAY_CODES = new Set(['IDEMPOTENCY_CONFLICT', 'INTENT_ALREADY_SIGNED', 'SEQUENCE_USED']);

/** The signing requests' use cases for the REST API: create (idempotently), view, list, wait for an outcome. */
@Injectable()
export class SigningRequestsService {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(DOMAIN_SETTINGS) private readonly settings: DomainSettings,
    @Inject(SigningService) private readonly signing: SigningService,
  ) {}

  /**
   * Builds the canonical intent (intent-intake.ts) and stores the request. Replay protection per key: an
   * exact retry with the same idempotency key returns the existing request (`created: false`); the same
   * intent otherwise is INTENT_ALREADY_SIGNED, a sequence used before SEQUENCE_USED. Unique keys in the
   * database decide between racing coordinators; the checks before the insert only give a clear answer
   * to the sequential case.
   */
  async create(input: CreateRequestInput, actor: Actor): Promise<{ request: SigningRequestRecord; created: boolean }> {
    const key = await this.store.read.keys.findById(input.keyId);
    if (!key) throw new DomainError('KEY_NOT_FOUND', `key ${input.keyId} not found`);
    if (key.status !== 'active') throw new DomainError('KEY_RETIRED', `key ${input.keyId} is retired`);
    const now = new Date();
    const proposer = proposerOf(actor);
    const intake = takeIn(input, proposer, {
      key,
      now,
      defaultTtlMs: this.settings.defaultRequestTtlMs,
      maxTtlMs: this.settings.maxRequestTtlMs,
    });
    const replayed = await this.replayOf(intake, input.idempotencyKey);
    if (replayed) return { request: replayed, created: false };

    const request = newRequestRecord(intake, { proposer, createdBy: actor.id, idempotencyKey: input.idempotencyKey ?? null }, now);
    try {
      await this.store.transaction(async (tx) => {
        await tx.requests.insert(request);
        await tx.audit.append({
          occurredAt: now,
          ...auditActor(actor),
          action: 'request.created',
          outcome: 'success',
          keyId: key.id,
          requestId: request.id,
          details: {
            ...auditActor(actor).details,
            ...createdDetails(intake, request.deadline),
            idempotencyKey: input.idempotencyKey ?? null,
          },
        });
        await tx.webhooks.enqueue([requestPendingEvent(request, now)], now);
      });
    } catch (e) {
      if (e instanceof DomainError && REPLAY_CODES.has(e.code)) {
        // Another POST won the race (here or on another instance): the same retry gets the winner, any
        // other loser the conflict named after the request that holds the intent or the sequence.
        const winner = await this.replayOf(intake, input.idempotencyKey);
        if (winner) return { request: winner, created: false };
      }
      throw e;
    }
    await this.signing.started(request);
    return { request, created: true };
  }

  /**
   * The request an exact retry (same idempotency key, same body) stands for, or null when nothing stored
   * conflicts. Throws IDEMPOTENCY_CONFLICT for a key used with another body, INTENT_ALREADY_SIGNED or
   * SEQUENCE_USED (naming the request) for another request's intent or sequence. A request found by its
   * intent or its sequence that carries this idempotency key is the retry's original, committed between
   * two of these reads by a racing POST.
   */
  private async replayOf({ intent, intentHash, requestHash }: Intake, idempotencyKey: string | undefined): Promise<SigningRequestRecord | null> {
    const retryOf = (existing: SigningRequestRecord): SigningRequestRecord | null => {
      if (idempotencyKey === undefined || existing.idempotencyKey !== idempotencyKey) return null;
      if (existing.requestHash !== requestHash) throw new DomainError('IDEMPOTENCY_CONFLICT', 'idempotency key already used for a different request');
      return existing;
    };
    if (idempotencyKey !== undefined) {
      const named = await this.store.read.requests.findByIdempotencyKey(idempotencyKey);
      if (named) return retryOf(named);
    }
    const same = await this.store.read.requests.findByIntentHash(intent.keyId, intentHash);
    if (same) {
      const original = retryOf(same);
      if (original) return original;
      throw new DomainError('INTENT_ALREADY_SIGNED', `this intent was already proposed for key ${intent.keyId}: request ${same.id}`, {
        requestId: same.id,
        intentHash,
      });
    }
    if (intent.sequence === null) return null;
    const sequenced = await this.store.read.requests.findBySequence(intent.keyId, intent.sequence);
    if (sequenced) {
      const original = retryOf(sequenced);
      if (original) return original;
      throw new DomainError('SEQUENCE_USED', `sequence ${intent.sequence} of key ${intent.keyId} is used by request ${sequenced.id}`, {
        requestId: sequenced.id,
        sequence: intent.sequence,
      });
    }
    return null;
  }

  view(requestId: string, scope: ViewScope = {}): Promise<RequestView> {
    return loadRequestView(this.store.read, requestId, scope);
  }

  /**
   * Resolves once the request is completed, failed, expired or cancelled, or after `timeoutMs`, with its
   * view: lets a client wait for a signature without polling.
   */
  async waitForOutcome(requestId: string, timeoutMs: number, scope: ViewScope = {}): Promise<RequestView> {
    const until = Date.now() + timeoutMs;
    let settled = false;
    let wake: (() => void) | undefined;
    const stop = this.signing.onSettled(requestId, () => {
      settled = true;
      wake?.();
    });
    try {
      for (let first = true; ; first = false) {
        // Only the row while waiting; the whole view once, at the end. Another proposer's request is
        // REQUEST_NOT_FOUND on the first read, before any waiting.
        const request = await this.store.read.requests.findById(requestId);
        if (!request || (first && scope.proposer !== undefined && !(await isOwnedBy(this.store.read, request, scope.proposer)))) {
          throw new DomainError('REQUEST_NOT_FOUND', `signing request ${requestId} not found`);
        }
        const left = until - Date.now();
        if (isTerminalRequest(request.status) || left <= 0) return viewOfRequest(this.store.read, request);
        if (!settled) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(left, LONG_POLL_RECHECK_MS));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        settled = false;
      }
    } finally {
      stop();
    }
  }

  /** A page of request views in a constant number of reads (request-views.ts). */
  listViews(filter: RequestListFilter): Promise<RequestView[]> {
    return listRequestViews(this.store.read, filter);
  }
}
