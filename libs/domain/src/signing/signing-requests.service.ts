import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { canonicalJson, getSuite, hexToBytes, sha256Hex } from '#crypto';
import { packageFits } from '#protocol';
import { DOMAIN_SETTINGS, type Actor, type DomainSettings } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import { isTerminalRequest, type AttemptRecord, type SigningRequestRecord } from '../records.js';
import { encodeMessage } from './message.js';
import { listRequestViews, loadRequestView, type RequestListFilter } from './request-views.js';
import { SigningService } from './signing.service.js';

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

/** How often a long-poll looks at the database again (another coordinator instance may finish the request). */
const LONG_POLL_RECHECK_MS = 1_000;

/** The signing requests' use cases for the REST API: create (idempotently), view, list, wait for an outcome. */
@Injectable()
export class SigningRequestsService {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(DOMAIN_SETTINGS) private readonly settings: DomainSettings,
    @Inject(SigningService) private readonly signing: SigningService,
  ) {}

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
      canonicalJson({ keyId: input.keyId, message, encoding: input.encoding, description: input.description, deadline: input.deadline?.toISOString() ?? null }),
    );
    const replayed = input.idempotencyKey === undefined ? null : await this.replayed(input.idempotencyKey, requestHash);
    if (replayed) return { request: replayed, created: false };
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
      blamelessRefusals: {},
    };
    try {
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
    } catch (e) {
      // Another POST with the same idempotency key won the race (here or on another instance).
      if (e instanceof DomainError && e.code === 'IDEMPOTENCY_CONFLICT' && input.idempotencyKey !== undefined) {
        const winner = await this.replayed(input.idempotencyKey, requestHash);
        if (winner) return { request: winner, created: false };
      }
      throw e;
    }
    await this.signing.started(request);
    return { request, created: true };
  }

  /** The request an idempotency key already names, if its body is the same; IDEMPOTENCY_CONFLICT if not. */
  private async replayed(idempotencyKey: string, requestHash: string): Promise<SigningRequestRecord | null> {
    const existing = await this.store.read.requests.findByIdempotencyKey(idempotencyKey);
    if (existing && existing.requestHash !== requestHash) {
      throw new DomainError('IDEMPOTENCY_CONFLICT', 'idempotency key already used for a different request');
    }
    return existing;
  }

  view(requestId: string): Promise<RequestView> {
    return loadRequestView(this.store.read, requestId);
  }

  /**
   * Resolves once the request is completed, failed or expired, or after `timeoutMs`, with its view: lets a
   * client wait for a signature without polling.
   */
  async waitForOutcome(requestId: string, timeoutMs: number): Promise<RequestView> {
    const until = Date.now() + timeoutMs;
    let settled = false;
    let wake: (() => void) | undefined;
    const stop = this.signing.onSettled(requestId, () => {
      settled = true;
      wake?.();
    });
    try {
      for (;;) {
        const current = await this.view(requestId);
        const left = until - Date.now();
        if (isTerminalRequest(current.request.status) || left <= 0) return current;
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
