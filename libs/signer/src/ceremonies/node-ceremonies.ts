import { groupPublicKey } from '#crypto';
import type {
  CeremonyAbortFrame,
  CeremonyClosedFrame,
  CeremonyRound1AllFrame,
  CeremonyRound2AllFrame,
  CeremonyStartFrame,
  NodeFrame,
  Outgoing,
} from '#protocol';
import type { Keystore } from '../keystore/keystore.js';
import { describeError, type SignerLogger } from '../logger.js';
import { CeremonyAbortError, asAbort, type CeremonyAbortCode } from './ceremony-abort.js';
import { judgeCompletedClose, resultFrame, type HeldCeremony } from './ceremony-close.js';
import { CeremonyParticipant } from './ceremony-participant.js';

/** The ceremony events a signer node emits. */
export interface CeremonyEvents {
  'ceremony-started': [{ ceremonyId: string; keyId: string; suite: CeremonyStartFrame['suite']; threshold: number; participants: number }];
  /** The coordinator confirmed the ceremony and this node checked it: the share is usable. */
  'ceremony-completed': [{ ceremonyId: string; keyId: string; groupPublicKey: string }];
  'ceremony-failed': [{ ceremonyId: string; reason: string }];
  'ceremony-aborted': [{ ceremonyId: string; code: CeremonyAbortCode; reason: string; culprit?: string }];
  /** A `ceremony.closed` `completed` this node could not check: the share stays stored but unusable (pending). */
  'ceremony-quarantined': [{ ceremonyId: string; keyId: string; reason: string }];
}

type CeremonyFrame = CeremonyStartFrame | CeremonyRound1AllFrame | CeremonyRound2AllFrame | CeremonyClosedFrame;
/** Sends a frame on the connection a frame came from (or the current one). */
export type Reply = (frame: Outgoing<NodeFrame>) => void;

export interface NodeCeremoniesOptions {
  keystore: Keystore;
  logger: SignerLogger;
  now: () => number;
  acceptCeremonies: boolean;
  /** The node id from the last `auth.ok`. */
  nodeId: () => string | undefined;
  /** A sender on the current authenticated connection, if there is one (for what timers send). */
  currentReply: () => Reply | undefined;
  /** Runs `work` in the node's frame queue, after the frames already queued. */
  enqueue: (work: () => Promise<void>) => void;
  emit: <K extends keyof CeremonyEvents>(event: K, ...args: CeremonyEvents[K]) => void;
}

/** A stored share whose ceremony this node has not seen confirmed: not used for signing. */
interface PendingShare {
  keyId: string;
  /** The ceremony it comes from; null for a mark an older version wrote (the operator settles it). */
  held: HeldCeremony | null;
  /** In the process that ran the ceremony: repeats its result for an identical `ceremony.round2.all`. */
  participant?: CeremonyParticipant;
  /** Set when a `ceremony.closed` `completed` could not be checked. */
  quarantined?: string;
  timer?: NodeJS.Timeout;
}

const MAX_ENDED = 1000;

/**
 * A signer node's key generation ceremonies: drives one CeremonyParticipant per ceremony from the
 * coordinator's frames, and settles the shares they store. A share is stored at round 3 with a pending
 * mark and is usable only once a `ceremony.closed` `completed` names the key this node derived with every
 * participant's valid signature (`judgeCompletedClose`). It is deleted only when the coordinator says the
 * ceremony failed; a missed or unverifiable close never deletes it (the key may be registered): the node
 * asks (`ceremony.query`) at every authentication, also after a restart (the mark records the ceremony).
 *
 * Everything here runs in the node's frame queue, one frame at a time.
 */
export class NodeCeremonies {
  /** Ceremonies before this node's round 3, by ceremony id: in memory only. */
  private readonly active = new Map<string, { participant: CeremonyParticipant; timer?: NodeJS.Timeout }>();
  /** Stored, unconfirmed shares by key id. */
  private readonly pending = new Map<string, PendingShare>();
  /** Ceremonies this process ended: later frames for them are ignored. */
  private readonly ended = new Set<string>();

  constructor(private readonly options: NodeCeremoniesOptions) {}

  /** True while `keyId`'s share must not sign: its ceremony runs, or its share is unconfirmed. */
  isPending(keyId: string): boolean {
    const id = keyId.toLowerCase();
    return this.pending.has(id) || [...this.active.values()].some((e) => e.participant.keyId === id);
  }

  /** At start: the shares left pending by an earlier run, each to be resolved by asking the coordinator. */
  async loadPending(): Promise<void> {
    const { keystore, logger } = this.options;
    for (const keyId of await keystore.listPending()) {
      if (!(await keystore.findShare(keyId))) {
        // Marked, then stopped before the share was written: nothing to settle.
        await keystore.clearPending(keyId);
        logger.info({ keyId }, 'removed the pending mark of a ceremony share that was never stored');
        continue;
      }
      let held: HeldCeremony | null = null;
      try {
        const ceremony = await keystore.readPendingCeremony(keyId);
        held = ceremony && { keyId, ...ceremony };
      } catch (e) {
        logger.error({ keyId, err: describeError(e) }, 'the pending mark of this key is unreadable');
      }
      this.pending.set(keyId, { keyId, held });
      if (held) {
        logger.warn(
          { keyId, ceremonyId: held.ceremonyId },
          'the share of this key comes from a ceremony this node has not seen confirmed: it is not used until the coordinator confirms it (asked once authenticated)',
        );
      } else {
        logger.warn(
          { keyId, marker: `pending/${keyId}.pending` },
          'the share of this key comes from a ceremony the coordinator never confirmed to this node, and its mark does not say which: it is not used; delete the marker once the coordinator lists the key as active',
        );
      }
    }
  }

  /** Once authenticated: ask how each ceremony of a pending share ended (the close may have been missed). */
  onAuthenticated(reply: Reply): void {
    for (const p of this.pending.values()) {
      if (!p.held) continue;
      this.options.logger.info({ ceremonyId: p.held.ceremonyId, keyId: p.keyId }, 'asking the coordinator how a ceremony ended');
      reply({ type: 'ceremony.query', ceremonyId: p.held.ceremonyId });
    }
  }

  async handle(frame: CeremonyFrame, reply: Reply): Promise<void> {
    switch (frame.type) {
      case 'ceremony.start':
        return this.onStart(frame, reply);
      case 'ceremony.round1.all':
      case 'ceremony.round2.all':
        return this.onRound(frame, reply);
      case 'ceremony.closed':
        return this.onClosed(frame);
    }
  }

  /** At shutdown: wipes every DKG state; stored shares keep their marks. */
  endAll(): void {
    for (const { participant, timer } of this.active.values()) {
      clearTimeout(timer);
      participant.end();
    }
    this.active.clear();
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }

  // ---------- frames ----------

  private async onStart(frame: CeremonyStartFrame, reply: Reply): Promise<void> {
    const { ceremonyId } = frame;
    const entry = this.active.get(ceremonyId);
    if (entry) {
      const repeated = entry.participant.repeatedAnswer(frame);
      if (repeated) reply(repeated);
      else this.options.logger.warn({ ceremonyId }, 'ignored a second, different ceremony.start');
      return;
    }
    if (this.ended.has(ceremonyId) || this.pendingOf(ceremonyId)) {
      this.options.logger.warn({ ceremonyId }, 'ignored ceremony.start for a ceremony this node already took part in');
      return;
    }
    try {
      if (this.isPending(frame.keyId)) {
        throw new CeremonyAbortError('PARAMETERS_REFUSED', `another ceremony for key ${frame.keyId} is in progress on this node, or its share is unconfirmed`);
      }
      const nodeId = this.options.nodeId();
      const { participant, frame: round1 } = await CeremonyParticipant.start(frame, this.options.keystore, {
        acceptCeremonies: this.options.acceptCeremonies,
        now: this.options.now,
        ...(nodeId !== undefined ? { nodeId } : {}),
      });
      this.active.set(ceremonyId, { participant });
      this.armDeadline(ceremonyId);
      const { keyId, suite, threshold } = frame;
      this.options.logger.info({ ceremonyId, keyId, suite, threshold, participants: frame.participants.length }, 'joined a key generation ceremony');
      this.options.emit('ceremony-started', { ceremonyId, keyId, suite, threshold, participants: frame.participants.length });
      reply(round1);
    } catch (e) {
      this.markEnded(ceremonyId);
      this.sendAbort(reply, ceremonyId, asAbort(e));
    }
  }

  private async onRound(frame: CeremonyRound1AllFrame | CeremonyRound2AllFrame, reply: Reply): Promise<void> {
    const { ceremonyId } = frame;
    const entry = this.active.get(ceremonyId);
    if (entry) return this.advance(entry.participant, frame, reply);
    const pending = this.pendingOf(ceremonyId);
    if (pending) {
      // The share is stored, so the answer is the result derived from it (the coordinator has not got it).
      if (frame.type === 'ceremony.round2.all') reply(pending.participant?.repeatedAnswer(frame) ?? (await this.resultFromStoredShare(pending)));
      else this.options.logger.warn({ ceremonyId }, 'ignored ceremony.round1.all for a ceremony whose share this node already holds');
      return;
    }
    if (this.ended.has(ceremonyId)) {
      this.options.logger.debug({ ceremonyId, frameType: frame.type }, 'ignored a frame for a ceremony this node already ended');
      return;
    }
    this.markEnded(ceremonyId);
    const lost = new CeremonyAbortError(
      'STATE_LOST',
      `this node holds no state for this ceremony: it restarted after joining it, and the DKG state lives in memory only, so it cannot answer ${frame.type}`,
    );
    this.sendAbort(reply, ceremonyId, lost);
  }

  private async advance(participant: CeremonyParticipant, frame: CeremonyRound1AllFrame | CeremonyRound2AllFrame, reply: Reply): Promise<void> {
    const repeated = participant.repeatedAnswer(frame);
    if (repeated) {
      this.options.logger.debug({ ceremonyId: frame.ceremonyId, frameType: frame.type }, 'repeated ceremony frame: sent the same answer again');
      reply(repeated);
      return;
    }
    try {
      if (frame.type === 'ceremony.round1.all') {
        reply(participant.handleRound1All(frame));
        this.armDeadline(participant.ceremonyId);
        return;
      }
      const result = await participant.handleRound2All(frame);
      this.forgetActive(participant);
      const pending: PendingShare = { keyId: participant.keyId, held: result.held, participant };
      this.pending.set(participant.keyId, pending);
      this.options.logger.info(
        { ceremonyId: frame.ceremonyId, keyId: participant.keyId, groupPublicKey: groupPublicKey(result.publicPackage) },
        'derived and stored a key share (pending until the coordinator confirms the ceremony)',
      );
      reply(result.frame);
      this.armCloseDeadline(pending, participant.deadline);
    } catch (e) {
      this.forgetActive(participant);
      this.markEnded(participant.ceremonyId);
      this.sendAbort(reply, participant.ceremonyId, asAbort(e));
    }
  }

  private async onClosed(frame: CeremonyClosedFrame): Promise<void> {
    const { ceremonyId } = frame;
    const { logger, emit } = this.options;
    const entry = this.active.get(ceremonyId);
    if (entry) {
      // Before this node's round 3: it holds no share, and without its signed result no key can be registered.
      this.forgetActive(entry.participant);
      this.markEnded(ceremonyId);
      const reason =
        frame.status === 'completed'
          ? `the coordinator closed the ceremony as completed before this node derived its share of key ${entry.participant.keyId}`
          : (frame.reason ?? 'the coordinator closed the ceremony as failed');
      logger.warn({ ceremonyId, reason }, 'key generation failed');
      emit('ceremony-failed', { ceremonyId, reason });
      return;
    }
    const pending = this.pendingOf(ceremonyId);
    if (!pending?.held) {
      logger.debug({ ceremonyId, status: frame.status }, 'ceremony closed (not one this node holds)');
      return;
    }
    clearTimeout(pending.timer);
    if (frame.status === 'failed') return this.discardShare(pending, frame.reason ?? 'the coordinator closed the ceremony as failed');
    let verdict;
    try {
      const share = await this.options.keystore.findShare(pending.keyId);
      verdict = share ? judgeCompletedClose(frame, pending.held, share.publicPackage) : { confirmed: false as const, reason: 'the share is no longer in the keystore' };
    } catch (e) {
      verdict = { confirmed: false as const, reason: `the share cannot be read: ${describeError(e)}` };
    }
    if (!verdict.confirmed) {
      pending.quarantined = verdict.reason;
      logger.error(
        { ceremonyId, keyId: pending.keyId, reason: verdict.reason },
        'the coordinator closed the ceremony as completed, but this node cannot confirm it: the share stays stored and unusable (pending)',
      );
      emit('ceremony-quarantined', { ceremonyId, keyId: pending.keyId, reason: verdict.reason });
      return;
    }
    this.pending.delete(pending.keyId);
    this.markEnded(ceremonyId);
    try {
      await this.options.keystore.clearPending(pending.keyId);
    } catch (e) {
      // Usable in this process; after a restart the node asks again and confirms it again.
      logger.error({ keyId: pending.keyId, err: describeError(e) }, 'could not clear the pending mark of a confirmed key');
    }
    const key = frame.groupPublicKey!;
    logger.info({ ceremonyId, keyId: pending.keyId, groupPublicKey: key }, 'key generation completed: the share is usable');
    emit('ceremony-completed', { ceremonyId, keyId: pending.keyId, groupPublicKey: key });
  }

  // ---------- shares ----------

  /** The coordinator says the ceremony failed: its key was not registered, so the share goes. */
  private async discardShare(pending: PendingShare, reason: string): Promise<void> {
    const ceremonyId = pending.held!.ceremonyId;
    this.markEnded(ceremonyId);
    try {
      await this.options.keystore.removeShare(pending.keyId);
      await this.options.keystore.clearPending(pending.keyId);
      this.pending.delete(pending.keyId);
    } catch (e) {
      // Stays pending (unusable).
      this.options.logger.error({ keyId: pending.keyId, err: describeError(e) }, 'could not remove the share of a failed ceremony');
    }
    this.options.logger.warn({ ceremonyId, keyId: pending.keyId, reason }, 'key generation failed: the share is deleted');
    this.options.emit('ceremony-failed', { ceremonyId, reason });
  }

  /** The `ceremony.result` of a stored share, rebuilt from it (after a restart, the DKG state is gone but the share is not). */
  private async resultFromStoredShare(pending: PendingShare): Promise<Outgoing<NodeFrame>> {
    const share = await this.options.keystore.readShare(pending.keyId);
    return resultFrame(pending.held!, share.publicPackage, (m) => this.options.keystore.signWithIdentity(m));
  }

  private pendingOf(ceremonyId: string): PendingShare | undefined {
    for (const p of this.pending.values()) if (p.held?.ceremonyId === ceremonyId) return p;
    return undefined;
  }

  // ---------- endings, deadlines ----------

  private sendAbort(reply: Reply | undefined, ceremonyId: string, error: CeremonyAbortError): void {
    this.options.logger.warn({ ceremonyId, code: error.code, culprit: error.culprit, reason: error.message }, 'aborted a key generation ceremony');
    const frame: Outgoing<CeremonyAbortFrame> = {
      type: 'ceremony.abort',
      ceremonyId,
      code: error.code,
      reason: error.message,
      ...(error.culprit !== undefined ? { culprit: error.culprit } : {}),
    };
    reply?.(frame);
    this.options.emit('ceremony-aborted', { ceremonyId, code: error.code, reason: error.message, ...(error.culprit !== undefined ? { culprit: error.culprit } : {}) });
  }

  /** Wipes the DKG state of a ceremony before its share exists. */
  private forgetActive(participant: CeremonyParticipant): void {
    participant.end();
    const entry = this.active.get(participant.ceremonyId);
    if (entry?.participant !== participant) return;
    clearTimeout(entry.timer);
    this.active.delete(participant.ceremonyId);
  }

  private markEnded(ceremonyId: string): void {
    this.ended.add(ceremonyId);
    if (this.ended.size > MAX_ENDED) this.ended.delete(this.ended.values().next().value!);
  }

  /** Before round 3: no next frame by the deadline ends the ceremony (no share exists yet). */
  private armDeadline(ceremonyId: string): void {
    const entry = this.active.get(ceremonyId);
    if (!entry) return;
    clearTimeout(entry.timer);
    const participant = entry.participant;
    entry.timer = this.timer(participant.deadline, () => {
      if (this.active.get(ceremonyId)?.participant !== participant || !participant.expired()) return;
      const phase = participant.phase;
      this.forgetActive(participant);
      this.markEnded(ceremonyId);
      this.sendAbort(
        this.options.currentReply(),
        ceremonyId,
        new CeremonyAbortError('DEADLINE_PASSED', `the deadline passed in phase ${phase} without the coordinator's next frame`),
      );
    });
  }

  /** After round 3: a missing `ceremony.closed` never deletes the share (the key may be registered); the node asks instead. */
  private armCloseDeadline(pending: PendingShare, deadline: number): void {
    clearTimeout(pending.timer);
    pending.timer = this.timer(deadline, () => {
      if (this.pending.get(pending.keyId) !== pending || pending.quarantined !== undefined) return;
      const ceremonyId = pending.held!.ceremonyId;
      const reply = this.options.currentReply();
      this.options.logger.warn(
        { ceremonyId, keyId: pending.keyId, connected: reply !== undefined },
        'no ceremony.closed by the deadline: the share stays stored and unusable (the key may have been registered); asking the coordinator',
      );
      reply?.({ type: 'ceremony.query', ceremonyId });
    });
  }

  /** A timer for `deadline` + 1 ms whose work runs in the frame queue. */
  private timer(deadline: number, work: () => void): NodeJS.Timeout {
    const delay = Math.max(0, deadline - this.options.now()) + 1;
    const timer = setTimeout(() => this.options.enqueue(() => Promise.resolve().then(work)), Math.min(delay, 2 ** 31 - 1));
    timer.unref?.();
    return timer;
  }
}
