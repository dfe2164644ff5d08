import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';
import { CryptoValidationError, getSuite } from '#crypto';
import type { AttemptRefuseFrame, AttemptShareFrame, RequestAwaitingFrame, RequestCommitFrame, RequestDeclineFrame } from '#protocol';
import { DeadlineTimers } from '../common/deadline-timers.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { DOMAIN_SETTINGS, NODE_LINK, type Actor, type DomainSettings, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { SIGNING_METRICS, STORE, type SigningMetrics, type Store } from '../ports.js';
import { isTerminalRequest, type AttemptRecord, type SigningRequestRecord } from '../records.js';
import { endAttempt, packageFrame, recordShare } from './attempt-steps.js';
import { acceptDecision, awaitOperator, refuseDecision } from './decision-steps.js';
import { RequestEvent, type SessionContext } from './request-event.js';
import { isOwnedBy } from './request-owner.js';
import { describeNode, KeyCache, loadRequestState } from './request-state.js';
import { cancelRequest, exclude, expire, lookAt, maybeFinish, misbehaved, offerCommitment, settle } from './request-steps.js';
import { isBlamelessRefusal, judgeAnswer } from './roast.js';

/** What the handler of a node frame did: the gateway acks both, an error is thrown instead. */
export type FrameOutcome = 'accepted' | 'duplicate';

const always = () => true;
/** Declines that the node's policy or operator decided: they must carry its signed decision. */
const DECIDED_DECLINES: ReadonlySet<string> = new Set(['POLICY_DENIED', 'OPERATOR_REJECTED']);

/** Who may cancel: anyone with the route, or (`proposer`) only the principal that proposed the request. */
export interface CancelInput {
  actor: Actor;
  reason?: string;
  /** When set, a request proposed by anyone else reads as not found. */
  proposer?: string;
}
const node = (id: string) => ({ kind: 'node' as const, id });

/**
 * Runs signing requests with ROAST over FROST: node frames (commitments, declines, shares, refusals),
 * reconnects, deadlines, recovery at boot. The decisions are pure functions (roast.ts); the steps that
 * carry them out change the request's state and the database together (request-steps.ts,
 * attempt-steps.ts).
 *
 * Each event of a request is one database transaction that first locks the request's row (so events of
 * one request are serialized across coordinator instances), reads its state once, and writes its audit
 * entries last; frames to nodes leave only after the commit. Within this process a mutex per request
 * also keeps events from queueing on the row lock.
 */
@Injectable()
export class SigningService implements OnModuleDestroy {
  private readonly logger = new Logger(SigningService.name);
  private readonly mutex = new KeyedMutex();
  private readonly timers = new DeadlineTimers((name, e) => this.logger.error(`${name}: ${(e as Error).message}`));
  private readonly settled = new EventEmitter().setMaxListeners(0);
  private readonly keys = new KeyCache();
  private readonly ctx: SessionContext;

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
    @Inject(DOMAIN_SETTINGS) settings: DomainSettings,
    @Optional() @Inject(SIGNING_METRICS) metrics?: SigningMetrics,
  ) {
    this.ctx = {
      ...(metrics ? { metrics } : {}),
      link,
      settings,
      timers: this.timers,
      settled: this.settled,
      scheduleLook: (requestId, at) => this.timers.schedule(`stagger:${requestId}`, at, () => this.event(requestId, lookAt)),
    };
  }

  private scheduler: NodeJS.Timeout | undefined;
  private ticking = false;

  onModuleDestroy(): void {
    this.settled.removeAllListeners();
    this.timers.stop();
    if (this.scheduler) clearInterval(this.scheduler);
  }

  /**
   * Every `intervalMs`, runs the open requests whose deadline or wake-up time has passed (a look ROAST's
   * stagger asked for): those of requests this process never saw, or whose timer died with another
   * instance. Any instance may run one; the request's row lock makes each transition happen once (an
   * expired request is already terminal for the next instance to look).
   */
  startScheduler(intervalMs: number): void {
    if (this.scheduler || intervalMs <= 0) return;
    this.scheduler = setInterval(() => void this.runDue(), intervalMs);
    this.scheduler.unref();
  }

  /** One pass of the scheduler; returns how many requests it looked at. */
  async runDue(limit = 100): Promise<number> {
    if (this.ticking) return 0;
    this.ticking = true;
    try {
      const due = await this.store.read.requests.listDue(new Date(), limit);
      for (const id of due) await this.event(id, lookAt).catch((e: unknown) => this.logger.warn(`scheduled look at request ${id}: ${(e as Error).message}`));
      return due.length;
    } catch (e) {
      this.logger.warn(`scheduler: ${(e as Error).message}`);
      return 0;
    } finally {
      this.ticking = false;
    }
  }

  // ------------------------------------------------------------------ requests' lifecycle

  /** A request was created: arm its deadline and propose it. */
  async started(request: SigningRequestRecord): Promise<void> {
    this.scheduleExpiry(request);
    await this.event(request.id, settle);
  }

  /**
   * Cancels a request that has not finished (REQUEST_FINISHED otherwise), as one more event of the
   * request: after it, any frame for it is answered REQUEST_FINISHED.
   */
  async cancel(requestId: string, input: CancelInput): Promise<SigningRequestRecord> {
    return this.event(requestId, async (ev) => {
      const { request } = ev.state;
      if (input.proposer !== undefined && !(await isOwnedBy(ev.tx, request, input.proposer))) {
        throw new DomainError('REQUEST_NOT_FOUND', `signing request ${requestId} not found`);
      }
      if (isTerminalRequest(request.status)) throw new DomainError('REQUEST_FINISHED', `signing request ${requestId} is already ${request.status}`);
      await cancelRequest(ev, input.actor, input.reason);
      return { ...ev.state.request };
    });
  }

  /** Another instance settled the request (its NOTIFY): this process's long-polls on it wake. */
  notifySettled(requestId: string): void {
    this.settled.emit(requestId);
  }

  /** Calls `listener` once the request's final state has committed (in this process, or another instance's). */
  onSettled(requestId: string, listener: () => void): () => void {
    this.settled.on(requestId, listener);
    return () => this.settled.off(requestId, listener);
  }

  /**
   * At boot: attempts that were running when the coordinator stopped can never complete (their packages
   * and shares were in flight on connections that are gone), so they end as aborted and every unused
   * commitment is burned; requests go back to collecting fresh commitments; deadlines are re-armed.
   */
  async recover(): Promise<number> {
    const open = await this.store.read.requests.listOpen();
    for (const request of open) {
      await this.event(request.id, async (ev) => {
        for (const a of ev.state.attempts.filter((x) => x.status === 'signing')) await endAttempt(ev, a, 'aborted', 'coordinator restarted');
        await ev.tx.commitments.burnForRequest(request.id);
        ev.state.commitments = [];
        ev.update({ status: 'pending' });
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
    const keyIds = new Set((await this.store.read.keys.listActiveForNode(nodeId)).map((k) => k.id));
    if (keyIds.size === 0) return;
    const open = (await this.store.read.requests.listOpen()).filter((r) => keyIds.has(r.keyId));
    for (const request of open) {
      await this.event(request.id, async (ev) => {
        const { state } = ev;
        if (isTerminalRequest(state.request.status) || state.request.culprits.some((c) => c.nodeId === nodeId)) return;
        const since = this.link.connection(nodeId)?.since ?? ev.now;
        const owed = state.commitments.find((c) => c.nodeId === nodeId && c.status === 'assigned');
        const attempt = owed ? state.attempts.find((a) => a.id === owed.attemptId) : undefined;
        if (attempt?.status === 'signing') {
          // Its package went out on an earlier connection and may be lost (one sent on this connection is not).
          if (attempt.startedAt < since) ev.send(nodeId, packageFrame(ev, attempt));
          return;
        }
        // Only what earlier connections offered: a commitment sent on this one belongs to the live process.
        if (state.commitments.some((c) => c.nodeId === nodeId && c.receivedAt < since)) {
          await ev.tx.commitments.burnForRequest(request.id, nodeId);
          state.commitments = state.commitments.filter((c) => c.nodeId !== nodeId);
        }
        await settle(ev);
      }).catch((e: unknown) => this.logger.warn(`request ${request.id} after node ${nodeId} connected: ${(e as Error).message}`));
    }
  }

  // ------------------------------------------------------------------ node frames (ROAST, docs/protocol.md §3.4)

  /** A node's first commitment to a request, or a fresh one after a blameless refusal or a reconnect. */
  async handleCommit(nodeId: string, frame: RequestCommitFrame, current: () => boolean = always): Promise<FrameOutcome> {
    try {
      return await this.event(frame.requestId, async (ev): Promise<FrameOutcome> => {
        openForNode(ev, nodeId);
        // A commitment counts only with the node's signed approval of this request's intent.
        if (!(await acceptDecision(ev, nodeId, frame.type, frame.decision, 'approve'))) return 'accepted';
        const outcome = await offerCommitment(ev, nodeId, frame.commitment);
        if (outcome === 'duplicate') return 'duplicate';
        if (outcome !== 'accepted') await misbehaved(ev, outcome);
        await settle(ev);
        return 'accepted';
      }, current);
    } catch (e) {
      // Not stored (the database failed, say): the node may be asked again by the request's next event.
      if (!(e instanceof DomainError)) {
        await this.store.transaction((tx) => tx.cluster.saveAsks(frame.requestId, [], [nodeId], new Date())).catch(() => undefined);
      }
      throw e;
    }
  }

  async handleDecline(nodeId: string, frame: RequestDeclineFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.event(frame.requestId, async (ev): Promise<FrameOutcome> => {
      openRequest(ev);
      member(ev, nodeId);
      if (ev.state.request.culprits.some((c) => c.nodeId === nodeId)) return 'duplicate';
      const declined = { code: frame.code, reason: frame.reason };
      if (frame.decision) {
        if (!(await acceptDecision(ev, nodeId, frame.type, frame.decision, 'decline', declined))) return 'accepted';
      } else if (DECIDED_DECLINES.has(frame.code)) {
        refuseDecision(ev, nodeId, frame.type, `a ${frame.code} decline must carry the node's signed decision`, undefined);
        return 'accepted';
      } else {
        ev.audit(node(nodeId), 'request.declined', 'success', declined, { nodeId });
      }
      await exclude(ev, [{ nodeId, reason: 'declined', detail: `${frame.code}: ${frame.reason}` }]);
      await settle(ev);
      return 'accepted';
    }, current);
  }

  /** The node's policy answered `ask`: it waits for its operator (no nonce committed meanwhile). */
  async handleAwaiting(nodeId: string, frame: RequestAwaitingFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.event(frame.requestId, async (ev): Promise<FrameOutcome> => {
      openForNode(ev, nodeId);
      return (await awaitOperator(ev, nodeId, frame)) === 'duplicate' ? 'duplicate' : 'accepted';
    }, current);
  }

  async handleShare(nodeId: string, frame: AttemptShareFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.event(frame.requestId, async (ev): Promise<FrameOutcome> => {
      openForNode(ev, nodeId);
      const attempt = await owedAttempt(ev, nodeId, frame.attemptId);
      if (attempt) await shared(ev, nodeId, attempt, frame);
      await settle(ev);
      return 'accepted';
    }, current);
  }

  async handleRefuse(nodeId: string, frame: AttemptRefuseFrame, current: () => boolean = always): Promise<FrameOutcome> {
    return this.event(frame.requestId, async (ev): Promise<FrameOutcome> => {
      openForNode(ev, nodeId);
      const attempt = await owedAttempt(ev, nodeId, frame.attemptId);
      if (attempt) await refused(ev, nodeId, attempt, frame);
      await settle(ev);
      return 'accepted';
    }, current);
  }

  // ------------------------------------------------------------------ plumbing

  /**
   * Runs one event of the request: in this process's mutex for it, one transaction that locks the row
   * and reads the state, `work`, the audit entries and the frames relayed to other instances' nodes; then
   * the in-memory effects and the frames for this instance's connections; then the
   * frame's error, if `work` rejected it. For a node frame, `current` says whether its connection is
   * still the node's live one once the lock is held: a frame of a connection that has since closed or
   * been replaced is dropped, since the coordinator has already asked again on the new connection.
   */
  private async event<T>(requestId: string, work: (ev: RequestEvent) => Promise<T>, current: () => boolean = always): Promise<T> {
    return this.mutex.run(requestId, async () => {
      if (!current()) throw new DomainError('UNEXPECTED_FRAME', 'the connection this frame came on has closed; it is dropped');
      let ev: RequestEvent | undefined;
      // A deadlock or serialization failure runs the event again from a fresh read: nothing of it was kept.
      const result = await this.store.transaction(
        async (tx) => {
          const state = await loadRequestState(tx, requestId, this.keys, this.link.liveSince());
          if (!state) throw new DomainError('REQUEST_NOT_FOUND', `signing request ${requestId} not found`);
          ev = new RequestEvent(tx, state, this.ctx);
          const value = await work(ev);
          await ev.flush();
          return value;
        },
        { retries: 2 },
      );
      ev!.committed();
      for (const [nodeId, frame] of ev!.localOut) this.link.send(nodeId, frame);
      if (ev!.rejection) throw ev!.rejection;
      return result;
    });
  }

  private scheduleExpiry(request: Pick<SigningRequestRecord, 'id' | 'deadline'>): void {
    this.timers.schedule(`request:${request.id}`, request.deadline, () =>
      this.event(request.id, async (ev) => {
        if (isTerminalRequest(ev.state.request.status)) return;
        if (ev.state.request.deadline > ev.now) return this.scheduleExpiry(ev.state.request);
        await expire(ev);
      }),
    );
  }
}

// ------------------------------------------------------------------ checks that enforce the replay rules

/** The request is still open: neither finished nor past its deadline. */
function openRequest(ev: RequestEvent): void {
  const { request } = ev.state;
  if (isTerminalRequest(request.status)) throw new DomainError('REQUEST_FINISHED', `signing request ${request.id} is ${request.status}`);
  if (request.deadline <= ev.now) throw new DomainError('REQUEST_EXPIRED', `signing request ${request.id} has expired`);
}

function member(ev: RequestEvent, nodeId: string): void {
  if (!ev.state.key.members.some((m) => m.nodeId === nodeId)) throw new DomainError('NOT_A_MEMBER', `node does not hold a share of key ${ev.state.key.id}`);
}

/** An open request, for a frame of a node that holds a share of its key and is not excluded from it. */
function openForNode(ev: RequestEvent, nodeId: string): void {
  openRequest(ev);
  member(ev, nodeId);
  const excluded = ev.state.request.culprits.find((c) => c.nodeId === nodeId);
  if (excluded) throw new DomainError('NOT_IN_SIGNER_SET', `node is excluded from this request (${excluded.reason})`);
}

/** The attempt a share or refusal answers, if the node owes it one; otherwise the node is excluded and null comes back. */
async function owedAttempt(ev: RequestEvent, nodeId: string, attemptId: string): Promise<AttemptRecord | null> {
  const judged = judgeAnswer(ev.state, nodeId, attemptId);
  if (judged.kind === 'owed') return judged.attempt;
  if (judged.kind === 'misbehaviour') {
    await misbehaved(ev, judged);
    return null;
  }
  const elsewhere = await ev.tx.attempts.findByIdAnyRequest(attemptId);
  const detail = elsewhere ? `an answer for attempt ${attemptId} of another request` : `an answer for unknown attempt ${attemptId}`;
  await misbehaved(ev, { culprit: { nodeId, reason: 'unsolicited_frame', detail }, code: 'ATTEMPT_NOT_FOUND' });
  return null;
}

/**
 * A node's share for an attempt it owed. ROAST: the answer to one attempt makes the node ready for the
 * next; the share stands even if its next commitment is refused (and may still complete the attempt).
 */
async function shared(ev: RequestEvent, nodeId: string, attempt: AttemptRecord, frame: AttemptShareFrame): Promise<void> {
  try {
    getSuite(ev.state.key.suite).assertScalar(frame.share, 'signature share');
  } catch (e) {
    if (!(e instanceof CryptoValidationError)) throw e;
    const detail = `malformed share: ${e.message}`;
    return misbehaved(ev, { culprit: { nodeId, reason: 'malformed_share', attemptId: attempt.id, detail }, code: 'SHARE_MALFORMED' });
  }
  await recordShare(ev, nodeId, attempt, frame.share);
  if (frame.nextCommitment) {
    const next = await offerCommitment(ev, nodeId, frame.nextCommitment);
    if (next !== 'accepted' && next !== 'duplicate') await misbehaved(ev, next);
  }
  await maybeFinish(ev, attempt.id);
}

/**
 * A node refused the package of an attempt it owed. A refusal that says it lost or spent its nonce (a
 * restart) is blameless a few times per request: the attempt cannot complete, nobody is to blame, and the
 * node is asked for a fresh commitment. Any other refusal excludes it.
 */
async function refused(ev: RequestEvent, nodeId: string, attempt: AttemptRecord, frame: AttemptRefuseFrame): Promise<void> {
  const { state } = ev;
  const earlier = state.request.blamelessRefusals[nodeId] ?? 0;
  const blameless = isBlamelessRefusal(frame.code, earlier);
  ev.audit(node(nodeId), 'attempt.refused', 'failure', { code: frame.code, reason: frame.reason, blamed: !blameless }, { attemptId: attempt.id, nodeId });
  if (!blameless) {
    await exclude(ev, [{ nodeId, reason: 'refused_package', attemptId: attempt.id, detail: frame.code }]);
    return;
  }
  ev.update({ blamelessRefusals: { ...state.request.blamelessRefusals, [nodeId]: earlier + 1 } });
  await ev.tx.commitments.burnForRequest(state.request.id, nodeId);
  state.commitments = state.commitments.filter((c) => c.nodeId !== nodeId);
  if (attempt.status === 'signing') {
    await endAttempt(ev, attempt, 'failed', `node ${describeNode(state, nodeId)} refused the signing package: ${frame.code} (${frame.reason})`, [nodeId]);
  }
}
