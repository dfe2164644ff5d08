import { auditActor } from '../common/actor.js';
import type { EventEmitter } from 'node:events';
import type { CoordinatorFrame, Outgoing } from '#protocol';
import type { DeadlineTimers } from '../common/deadline-timers.js';
import type { Outbox } from '../common/outbox.js';
import type { Actor, DomainSettings, NodeLink } from '../common/tokens.js';
import type { DomainError } from '../errors.js';
import type { RelayedFrame } from '../cluster/cluster-records.js';
import type { Repositories, SigningMetrics, SigningRequestPatch } from '../ports.js';
import type { AuditAction, AuditEntryInput, SigningRequestRecord } from '../records.js';
import { requestWebhookEvents } from '../webhooks/webhook-events.js';
import { observeEvent, snapshotOf, type RequestSnapshot } from './request-metrics.js';
import { roastView, type RequestState } from './request-state.js';
import type { RoastView } from './roast.js';

type RequestPatch = Partial<Omit<SigningRequestRecord, 'id' | 'keyId' | 'createdAt'>>;

/** What the steps of an event use besides the database: the process's connections, timers and settings. */
export interface SessionContext {
  readonly link: NodeLink;
  readonly settings: DomainSettings;
  readonly timers: DeadlineTimers;
  /** Emits a request's id once its final state has committed (long-polls listen). */
  readonly settled: EventEmitter;
  /**
   * Runs an event of the request at `at` in this process (ROAST's stagger), the fast path: the request's
   * `wake_at` makes any instance's scheduler run it too, should this process be gone by then.
   */
  scheduleLook(requestId: string, at: Date): void;
  /** Told what each committed event changed (request-metrics.ts); none in unit tests. */
  readonly metrics?: SigningMetrics;
}

/**
 * One event of one signing request (a node frame, a deadline, a reconnect), inside one database
 * transaction that holds the request's row lock. The steps change `state` and the database together;
 * the audit entries and the request row's changes are written once, at the end (`flush`); frames and
 * in-memory effects wait until the transaction has committed. Frames for nodes held by another
 * coordinator instance are written to the database at `flush` (relayed if and only if it commits).
 */
export class RequestEvent {
  readonly now = new Date();
  readonly out: Outbox = [];
  /** What `flush` left for this process to send after the commit: frames for its own connections. */
  localOut: Outbox = [];
  /** Set when the frame that caused the event is answered with an error although its effects commit. */
  rejection: DomainError | undefined;
  private readonly entries: AuditEntryInput[] = [];
  private readonly effects: (() => void)[] = [];
  private patch: SigningRequestPatch = {};
  private readonly askMarks = new Map<string, string>();
  private readonly askClears = new Set<string>();
  private closed = false;
  /** How many of `out` flush has routed (to localOut or the relay). */
  private routed = 0;
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

  /**
   * Whether the node is connected to a live instance: this one's own connection registry for a node it
   * holds (it knows of a close before its presence row is gone), the presence rows for the others.
   */
  connected(nodeId: string): boolean {
    const p = this.state.presence.get(nodeId);
    return p !== undefined && (p.instanceId !== this.ctx.link.instanceId || this.ctx.link.isConnected(nodeId));
  }

  /** The node's live connection (any instance's), for the ask-once-per-connection rule. */
  connectionOf(nodeId: string): string | null {
    return this.connected(nodeId) ? this.state.presence.get(nodeId)!.connectionId : null;
  }

  /** The node was asked for a commitment on `connectionId` (stored at `flush`). */
  markAsked(nodeId: string, connectionId: string): void {
    this.state.asked.set(nodeId, connectionId);
    this.askMarks.set(nodeId, connectionId);
    this.askClears.delete(nodeId);
  }

  /** The node answered (or can no longer answer): it may be asked again. A node not asked costs nothing. */
  clearAsked(nodeId: string): void {
    this.askMarks.delete(nodeId);
    if (this.state.asked.delete(nodeId)) this.askClears.add(nodeId);
  }

  /** The request is over: its asks are forgotten and its end is announced to every instance. */
  closing(): void {
    for (const m of this.state.key.members) this.clearAsked(m.nodeId);
    this.closed = true;
  }

  /** The request needs a look at `at` (ROAST's stagger) even if no frame comes: any instance will give it one. */
  wakeAt(at: Date): void {
    this.patch.wakeAt = at;
    this.afterCommit(() => this.ctx.scheduleLook(this.requestId, at));
  }

  /** The look that was asked for is happening: none is pending unless this event asks for another. */
  clearWake(): void {
    this.patch.wakeAt = null;
  }

  view(): RoastView {
    return roastView(this.state, (nodeId) => this.connected(nodeId), this.ctx.settings.attemptStaggerMs, this.now.getTime());
  }

  /**
   * Writes the request row's changes, who was asked, the frames for other instances' nodes, then every
   * audit entry (last: the chain lock is taken last).
   */
  async flush(): Promise<void> {
    if (Object.keys(this.patch).length > 0) await this.tx.requests.update(this.requestId, this.patch);
    this.patch = {};
    if (this.askMarks.size > 0 || this.askClears.size > 0) {
      const marks = [...this.askMarks].map(([nodeId, connectionId]) => ({ nodeId, connectionId }));
      await this.tx.cluster.saveAsks(this.requestId, marks, [...this.askClears], this.now);
      this.askMarks.clear();
      this.askClears.clear();
    }
    await this.relayRemote();
    if (this.closed) await this.tx.cluster.announceSettled(this.requestId);
    if (this.entries.length === 0) return;
    const entries = this.entries.splice(0);
    await this.tx.audit.appendAll(entries);
    // The webhook events these entries mean, in the outbox of the same transaction.
    const events = requestWebhookEvents(this.state.request, entries, this.approvalCount(entries));
    if (events.length > 0) await this.tx.webhooks.enqueue(events, this.now);
  }

  /** Splits the frames: this instance's nodes' wait for the commit, others' are relayed in the transaction. */
  private async relayRemote(): Promise<void> {
    const relayed: RelayedFrame[] = [];
    for (const [nodeId, frame] of this.out.slice(this.routed)) {
      const p = this.state.presence.get(nodeId);
      if (p && p.instanceId !== this.ctx.link.instanceId) relayed.push({ instanceId: p.instanceId, nodeId, connectionId: p.connectionId, body: { frame } });
      else this.localOut.push([nodeId, frame]);
    }
    this.routed = this.out.length;
    await this.tx.cluster.relay(relayed);
  }

  /** Approving nodes before and after this event's entries, when they hold an approval (else null). */
  private approvalCount(entries: readonly AuditEntryInput[]): { before: number; after: number; threshold: number } | null {
    const added = entries.filter((e) => e.action === 'request.approved').length;
    if (added === 0) return null;
    const after = [...this.state.decisions.values()].filter((d) => d.verdict === 'approve').length;
    return { before: after - added, after, threshold: this.state.key.threshold };
  }

  committed(): void {
    if (this.ctx.metrics && this.before) observeEvent(this.before, this.state, this.ctx.metrics);
    for (const effect of this.effects.splice(0)) effect();
  }
}
