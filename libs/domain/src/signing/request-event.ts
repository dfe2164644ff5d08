import { auditActor } from '../common/actor.js';
import type { EventEmitter } from 'node:events';
import type { CoordinatorFrame, Outgoing } from '#protocol';
import type { DeadlineTimers } from '../common/deadline-timers.js';
import type { Outbox } from '../common/outbox.js';
import type { Actor, DomainSettings, NodeLink } from '../common/tokens.js';
import type { DomainError } from '../errors.js';
import type { Repositories, SigningMetrics } from '../ports.js';
import type { AuditAction, AuditEntryInput, SigningRequestRecord } from '../records.js';
import { requestWebhookEvents } from '../webhooks/webhook-events.js';
import { observeEvent, snapshotOf, type RequestSnapshot } from './request-metrics.js';
import { roastView, type RequestState } from './request-state.js';
import type { RoastView } from './roast.js';

type RequestPatch = Partial<Omit<SigningRequestRecord, 'id' | 'keyId' | 'createdAt'>>;

/**
 * Which node was asked for a commitment on which of its connections, per request, while its answer is
 * not in: a node is asked at most once per connection, so an honest node never has two commitments to
 * offer. Connections live in this process, so this lives here too.
 */
export class AskedRegistry {
  private readonly byRequest = new Map<string, Map<string, number>>();

  wasAsked(requestId: string, nodeId: string, connectionId: number): boolean {
    return this.byRequest.get(requestId)?.get(nodeId) === connectionId;
  }

  mark(requestId: string, nodeId: string, connectionId: number): void {
    let asked = this.byRequest.get(requestId);
    if (!asked) this.byRequest.set(requestId, (asked = new Map<string, number>()));
    asked.set(nodeId, connectionId);
  }

  clear(requestId: string, nodeId: string): void {
    this.byRequest.get(requestId)?.delete(nodeId);
  }

  forget(requestId: string): void {
    this.byRequest.delete(requestId);
  }
}

/** What the steps of an event use besides the database: the process's connections, timers and settings. */
export interface SessionContext {
  readonly link: NodeLink;
  readonly settings: DomainSettings;
  readonly asked: AskedRegistry;
  readonly timers: DeadlineTimers;
  /** Emits a request's id once its final state has committed (long-polls listen). */
  readonly settled: EventEmitter;
  /** Runs an event of the request at `at` (ROAST's stagger). */
  scheduleLook(requestId: string, at: Date): void;
  /** Told what each committed event changed (request-metrics.ts); none in unit tests. */
  readonly metrics?: SigningMetrics;
}

/**
 * One event of one signing request (a node frame, a deadline, a reconnect), inside one database
 * transaction that holds the request's row lock. The steps change `state` and the database together;
 * the audit entries and the request row's changes are written once, at the end (`flush`); frames and
 * in-memory effects wait until the transaction has committed.
 */
export class RequestEvent {
  readonly now = new Date();
  readonly out: Outbox = [];
  /** Set when the frame that caused the event is answered with an error although its effects commit. */
  rejection: DomainError | undefined;
  private readonly entries: AuditEntryInput[] = [];
  private readonly effects: (() => void)[] = [];
  private patch: RequestPatch = {};
  /** What the state was before this event, for the metrics port (null when no one measures). */
  private readonly before: RequestSnapshot | null;

  constructor(
    readonly tx: Repositories,
    readonly state: RequestState,
    readonly ctx: SessionContext,
  ) {
    this.before = ctx.metrics ? snapshotOf(state) : null;
  }

  get requestId(): string {
    return this.state.request.id;
  }

  /** Changes the request row (in `state` at once, in the database at `flush`). */
  update(patch: RequestPatch): void {
    Object.assign(this.state.request, patch, { updatedAt: this.now });
    this.patch = { ...this.patch, ...patch, updatedAt: this.now };
  }

  audit(actor: Actor, action: AuditAction, outcome: 'success' | 'failure', details: Record<string, unknown>, refs: { attemptId?: string | null; nodeId?: string | null } = {}): void {
    this.entries.push({
      occurredAt: this.now,
      action,
      outcome,
      keyId: this.state.request.keyId,
      requestId: this.state.request.id,
      attemptId: refs.attemptId ?? null,
      nodeId: refs.nodeId ?? null,
      ...auditActor(actor, details),
    });
  }

  send(nodeId: string, frame: Outgoing<CoordinatorFrame>): void {
    this.out.push([nodeId, frame]);
  }

  /** Runs once the transaction has committed (never if it fails). */
  afterCommit(effect: () => void): void {
    this.effects.push(effect);
  }

  reject(error: DomainError): void {
    this.rejection ??= error;
  }

  view(): RoastView {
    return roastView(this.state, (nodeId) => this.ctx.link.isConnected(nodeId), this.ctx.settings.attemptStaggerMs, this.now.getTime());
  }

  /** Writes the request row's changes, then every audit entry (last: the chain lock is taken last). */
  async flush(): Promise<void> {
    if (Object.keys(this.patch).length > 0) await this.tx.requests.update(this.requestId, this.patch);
    this.patch = {};
    if (this.entries.length === 0) return;
    const entries = this.entries.splice(0);
    await this.tx.audit.appendAll(entries);
    // The webhook events these entries mean, in the outbox of the same transaction.
    const events = requestWebhookEvents(this.state.request, entries, await this.approvalCount(entries));
    if (events.length > 0) await this.tx.webhooks.enqueue(events, this.now);
  }

  /** Approving nodes before and after this event's entries, when they hold an approval (else null: no read). */
  private async approvalCount(entries: readonly AuditEntryInput[]): Promise<{ before: number; after: number; threshold: number } | null> {
    const added = entries.filter((e) => e.action === 'request.approved').length;
    if (added === 0) return null;
    const rows = await this.tx.decisions.listForRequests([this.requestId]);
    const after = rows.filter((r) => r.verdict === 'approve').length;
    return { before: after - added, after, threshold: this.state.key.threshold };
  }

  committed(): void {
    if (this.ctx.metrics && this.before) observeEvent(this.before, this.state, this.ctx.metrics);
    for (const effect of this.effects.splice(0)) effect();
  }
}
