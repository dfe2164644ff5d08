import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { canonicalJson, getSuite, sha256Hex, type PublicKeyPackage, type SuiteId } from '#crypto';
import {
  MAX_CEREMONY_PARTICIPANTS,
  packageFits,
  type CeremonyAbortFrame,
  type CeremonyParticipant,
  type CeremonyResultFrame,
  type CeremonyRound1Frame,
  type CeremonyRound2Frame,
  type CoordinatorFrame,
  type Outgoing,
} from '#protocol';
import { DeadlineTimers } from '../common/deadline-timers.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { runThenSend, type Outbox } from '../common/outbox.js';
import { NODE_LINK, SYSTEM_ACTOR, type Actor, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { assertRegistrable, registerKeyInTransaction, type RegisterKeyInput } from '../keys/keys.service.js';
import { STORE, type Store } from '../ports.js';
import {
  isTerminalCeremony,
  type CeremonyRecord,
  type CeremonyResult,
  type CeremonyResultRecord,
  type CeremonyShareRecord,
  type CeremonyStatus,
} from '../records.js';
import type { FrameOutcome } from '../signing/signing.service.js';
import {
  assertResultSignature,
  assertRound1Package,
  assertRound1Signature,
  assertRound2Shares,
  dissenters,
  expectedTranscriptHash,
  groupKeyMatches,
  resultDigest,
  sortRound1,
} from './ceremony-rules.js';

export interface StartCeremonyInput {
  suite: SuiteId;
  threshold: number;
  /** The participants, in order: the i-th gets identifier i+1. */
  nodeIds: string[];
  /** How long each round may take (default 60 s). */
  deadlineMs?: number;
}

export interface CeremonyView {
  ceremony: CeremonyRecord;
  /** Identifiers whose round-1 package arrived. */
  round1Received: string[];
  /** Identifiers whose round-2 shares arrived. */
  round2Received: string[];
  /** Node ids whose result arrived. */
  resultsReceived: string[];
}

export const DEFAULT_CEREMONY_ROUND_MS = 60_000;
export const MIN_CEREMONY_ROUND_MS = 1_000;
export const MAX_CEREMONY_ROUND_MS = 600_000;

/** Frames to send once the transaction that decided them has committed. */

const reasonText = (text: string): string => (text.length <= 500 ? text : `${text.slice(0, 497)}...`);
const ROUND_OF: Record<'round1' | 'round2' | 'round3', string> = { round1: 'round-1 package', round2: 'round-2 shares', round3: 'result' };

/**
 * Relays distributed key generations (noble's DKG.round1/2/3) between participants. The coordinator
 * holds nothing secret: round-1 packages are public (signed by each participant's identity key and
 * bound to the ceremony), round-2 shares are sealed end to end, results are public key packages.
 *
 * As in SigningService: every event of one ceremony runs under that ceremony's mutex, every state change
 * commits in one transaction with its audit entries, frames leave only after the commit.
 */
@Injectable()
export class CeremonyService implements OnModuleDestroy {
  private readonly logger = new Logger(CeremonyService.name);
  private readonly mutex = new KeyedMutex();
  private readonly timers = new DeadlineTimers((id, e) => this.logger.error(`ceremony ${id} deadline: ${(e as Error).message}`));

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
  ) {}

  onModuleDestroy(): void {
    this.timers.stop();
  }

  // ------------------------------------------------------------------ API

  async start(input: StartCeremonyInput, actor: Actor): Promise<CeremonyRecord> {
    const n = input.nodeIds.length;
    const t = input.threshold;
    if (!Number.isInteger(t) || t < 2 || t > n || n > MAX_CEREMONY_PARTICIPANTS) {
      throw new DomainError('VALIDATION_FAILED', `need 2 <= threshold <= participants <= ${MAX_CEREMONY_PARTICIPANTS}; got threshold ${t} of ${n}`);
    }
    if (new Set(input.nodeIds).size !== n) throw new DomainError('VALIDATION_FAILED', 'the participants must be distinct nodes');
    const roundMs = input.deadlineMs ?? DEFAULT_CEREMONY_ROUND_MS;
    if (!Number.isInteger(roundMs) || roundMs < MIN_CEREMONY_ROUND_MS || roundMs > MAX_CEREMONY_ROUND_MS) {
      throw new DomainError('VALIDATION_FAILED', `deadlineMs must be an integer in [${MIN_CEREMONY_ROUND_MS}, ${MAX_CEREMONY_ROUND_MS}]`);
    }
    const suite = getSuite(input.suite);
    if (!packageFits(1, t, suite)) {
      throw new DomainError('VALIDATION_FAILED', `a signing package for ${t} signers of ${input.suite} would not fit in one frame`);
    }
    const participants: CeremonyParticipant[] = [];
    for (const [i, nodeId] of input.nodeIds.entries()) {
      const node = await this.store.read.nodes.findById(nodeId);
      if (!node) throw new DomainError('NODE_NOT_FOUND', `node ${nodeId} is not enrolled`);
      if (node.status !== 'active') throw new DomainError('NODE_REVOKED', `node ${nodeId} is revoked`);
      if (!this.link.isConnected(nodeId)) throw new DomainError('NODE_NOT_CONNECTED', `node ${nodeId} (${node.label}) is not connected`);
      participants.push({ nodeId, identifier: suite.identifier(i + 1), identityKey: node.publicKey });
    }
    const now = new Date();
    const ceremony: CeremonyRecord = {
      id: randomUUID(),
      keyId: randomUUID(),
      suite: input.suite,
      threshold: t,
      status: 'round1',
      participants,
      round1: {},
      transcriptHash: null,
      failureCode: null,
      failureReason: null,
      culpritNodeId: null,
      culprits: [],
      deadline: new Date(now.getTime() + roundMs),
      roundTimeoutMs: roundMs,
      createdBy: actor.id,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    };
    await this.withCeremony(ceremony.id, async (out) => {
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.insert(ceremony);
        await tx.audit.append({
          ...this.event(actor, 'ceremony.started', 'success', ceremony),
          details: {
            ceremonyId: ceremony.id,
            suite: ceremony.suite,
            threshold: t,
            participants: participants.map((p) => ({ nodeId: p.nodeId, identifier: p.identifier, identityKey: p.identityKey })),
            deadline: ceremony.deadline.toISOString(),
            roundTimeoutMs: roundMs,
          },
        });
      });
      this.scheduleDeadline(ceremony);
      for (const p of participants) {
        out.push([
          p.nodeId,
          {
            type: 'ceremony.start',
            ceremonyId: ceremony.id,
            keyId: ceremony.keyId,
            suite: ceremony.suite,
            threshold: t,
            participants,
            deadline: ceremony.deadline.getTime(),
          },
        ]);
      }
    });
    return ceremony;
  }

  async view(ceremonyId: string): Promise<CeremonyView> {
    const ceremony = await this.store.read.ceremonies.findById(ceremonyId);
    if (!ceremony) throw new DomainError('CEREMONY_NOT_FOUND', `ceremony ${ceremonyId} not found`);
    const [shares, results] = await Promise.all([
      this.store.read.ceremonies.listShares(ceremonyId),
      this.store.read.ceremonies.listResults(ceremonyId),
    ]);
    return {
      ceremony,
      round1Received: Object.keys(ceremony.round1),
      round2Received: [...new Set(shares.map((s) => s.fromIdentifier))],
      resultsReceived: results.map((r) => r.nodeId),
    };
  }

  list(filter: { status?: CeremonyStatus; limit: number; offset: number }): Promise<CeremonyRecord[]> {
    return this.store.read.ceremonies.list(filter);
  }

  /** At boot: re-arms the deadlines of ceremonies still in a round (past ones fire at once). */
  async recover(): Promise<number> {
    const open = await this.store.read.ceremonies.listOpen();
    for (const c of open) this.scheduleDeadline(c);
    return open.length;
  }

  /**
   * A node authenticated: resend the last frame of each open ceremony it is in and has not answered
   * (it may have been lost with the old connection). A node that lost its ceremony state ignores it.
   */
  async onNodeConnected(nodeId: string): Promise<void> {
    const open = (await this.store.read.ceremonies.listOpen()).filter((c) => c.participants.some((p) => p.nodeId === nodeId));
    for (const c of open) {
      await this.withCeremony(c.id, async (out) => {
        const ceremony = await this.store.read.ceremonies.findById(c.id);
        if (!ceremony || isTerminalCeremony(ceremony.status)) return;
        const me = ceremony.participants.find((p) => p.nodeId === nodeId)!;
        const deadline = ceremony.deadline.getTime();
        if (ceremony.status === 'round1') {
          if (ceremony.round1[me.identifier]) return;
          const { id: ceremonyId, keyId, suite, threshold, participants } = ceremony;
          out.push([nodeId, { type: 'ceremony.start', ceremonyId, keyId, suite, threshold, participants, deadline }]);
        } else if (ceremony.status === 'round2') {
          const shares = await this.store.read.ceremonies.listShares(ceremony.id);
          if (shares.some((s) => s.fromIdentifier === me.identifier)) return;
          const packages = sortRound1(ceremony.suite, Object.values(ceremony.round1));
          out.push([nodeId, { type: 'ceremony.round1.all', ceremonyId: ceremony.id, packages, deadline }]);
        } else {
          const results = await this.store.read.ceremonies.listResults(ceremony.id);
          if (results.some((r) => r.nodeId === nodeId)) return;
          const shares = await this.store.read.ceremonies.listShares(ceremony.id);
          out.push([nodeId, this.round2AllFrame(ceremony, shares, me.identifier, ceremony.transcriptHash!, ceremony.deadline)]);
        }
      });
    }
  }

  // ------------------------------------------------------------------ node frames

  async handleRound1(nodeId: string, frame: CeremonyRound1Frame): Promise<FrameOutcome> {
    return this.withCeremony(frame.ceremonyId, async (out): Promise<FrameOutcome> => {
      const { ceremony, participant } = await this.open(frame.ceremonyId, nodeId);
      assertRound1Signature(ceremony.id, participant, frame.round1);
      assertRound1Package(ceremony.suite, ceremony.threshold, participant, frame.round1.package);
      const existing = ceremony.round1[participant.identifier];
      if (existing) {
        if (canonicalJson(existing) === canonicalJson(frame.round1)) return 'duplicate';
        throw new DomainError('CEREMONY_CONFLICT', 'a different round-1 package from this participant was already received');
      }
      if (ceremony.status !== 'round1') throw this.roundMismatch(ceremony, 'round1');
      const round1 = { ...ceremony.round1, [participant.identifier]: frame.round1 };
      const complete = Object.keys(round1).length === ceremony.participants.length;
      const now = new Date();
      const deadline = complete ? new Date(now.getTime() + ceremony.roundTimeoutMs) : ceremony.deadline;
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.update(ceremony.id, { round1, ...(complete ? { status: 'round2' as const, deadline } : {}), updatedAt: now });
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'ceremony.round1_received', 'success', ceremony, nodeId),
          details: {
            ceremonyId: ceremony.id,
            identifier: participant.identifier,
            packageHash: sha256Hex(canonicalJson(frame.round1)),
            commitment0: frame.round1.package.commitment[0]!,
            roundComplete: complete,
          },
        });
      });
      if (complete) {
        const next: CeremonyRecord = { ...ceremony, round1, status: 'round2', deadline };
        this.scheduleDeadline(next);
        const packages = sortRound1(ceremony.suite, Object.values(round1));
        for (const p of ceremony.participants) {
          out.push([p.nodeId, { type: 'ceremony.round1.all', ceremonyId: ceremony.id, packages, deadline: deadline.getTime() }]);
        }
      }
      return 'accepted';
    });
  }

  async handleRound2(nodeId: string, frame: CeremonyRound2Frame): Promise<FrameOutcome> {
    return this.withCeremony(frame.ceremonyId, async (out): Promise<FrameOutcome> => {
      const { ceremony, participant } = await this.open(frame.ceremonyId, nodeId);
      if (ceremony.status === 'round1') throw this.roundMismatch(ceremony, 'round2');
      const all = await this.store.read.ceremonies.listShares(ceremony.id);
      const mine = all.filter((s) => s.fromIdentifier === participant.identifier);
      if (mine.length > 0) {
        const same =
          mine[0]!.transcriptHash === frame.transcriptHash &&
          canonicalJson(sortShares(mine.map((s) => s.sealed))) === canonicalJson(sortShares(frame.shares));
        if (same) return 'duplicate';
        throw new DomainError('CEREMONY_CONFLICT', 'different round-2 shares from this participant were already received');
      }
      if (ceremony.status !== 'round2') throw this.roundMismatch(ceremony, 'round2');
      assertRound2Shares(ceremony.participants, participant.identifier, frame.shares);
      const now = new Date();
      const rows: CeremonyShareRecord[] = frame.shares.map((sealed) => ({
        ceremonyId: ceremony.id,
        fromIdentifier: sealed.from,
        toIdentifier: sealed.to,
        transcriptHash: frame.transcriptHash,
        sealed,
        receivedAt: now,
      }));
      const senders = new Set([...all.map((s) => s.fromIdentifier), participant.identifier]);
      const complete = senders.size === ceremony.participants.length;
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.insertShares(rows);
        await tx.ceremonies.update(ceremony.id, { updatedAt: now });
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'ceremony.round2_received', 'success', ceremony, nodeId),
          details: {
            ceremonyId: ceremony.id,
            identifier: participant.identifier,
            transcriptHash: frame.transcriptHash,
            // Hashes of the ciphertexts only: the coordinator cannot read them.
            sealedHash: sha256Hex(canonicalJson(sortShares(frame.shares))),
            shares: frame.shares.length,
            roundComplete: complete,
          },
        });
      });
      if (!complete) return 'accepted';
      const every = [...all, ...rows];
      const hashOf = (identifier: string) => every.find((s) => s.fromIdentifier === identifier)!.transcriptHash;
      const reports = ceremony.participants.map((p) => ({ nodeId: p.nodeId, value: hashOf(p.identifier) }));
      const expected = expectedTranscriptHash(ceremony);
      const bad = dissenters(reports, expected);
      if (bad.length > 0) {
        const reason = `participants saw different round-1 sets (transcript hash mismatch); inconsistent: ${bad.join(', ')}`;
        await this.fail(ceremony, 'TRANSCRIPT_MISMATCH', reason, bad, SYSTEM_ACTOR, out);
        return 'accepted';
      }
      const agreed = reports[0]!.value;
      if (agreed !== expected) this.logger.warn(`ceremony ${ceremony.id}: participants agree on a transcript hash the coordinator computes differently`);
      const deadline = new Date(Date.now() + ceremony.roundTimeoutMs);
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.update(ceremony.id, { status: 'round3', transcriptHash: agreed, deadline, updatedAt: new Date() });
      });
      this.scheduleDeadline({ id: ceremony.id, deadline });
      for (const p of ceremony.participants) out.push([p.nodeId, this.round2AllFrame(ceremony, every, p.identifier, agreed, deadline)]);
      return 'accepted';
    });
  }

  async handleResult(nodeId: string, frame: CeremonyResultFrame): Promise<FrameOutcome> {
    return this.withCeremony(frame.ceremonyId, async (out): Promise<FrameOutcome> => {
      const { ceremony, participant } = await this.open(frame.ceremonyId, nodeId);
      if (ceremony.status === 'round1' || ceremony.status === 'round2') throw this.roundMismatch(ceremony, 'round3');
      const result: CeremonyResult = {
        groupPublicKey: frame.groupPublicKey,
        commitments: frame.commitments,
        verifyingShares: frame.verifyingShares,
        signature: frame.signature,
      };
      assertResultSignature(ceremony, participant, result);
      const results = await this.store.read.ceremonies.listResults(ceremony.id);
      const existing = results.find((r) => r.nodeId === nodeId);
      if (existing) {
        if (canonicalJson(existing.result) === canonicalJson(result)) return 'duplicate';
        throw new DomainError('CEREMONY_CONFLICT', 'a different result from this participant was already received');
      }
      const now = new Date();
      const row: CeremonyResultRecord = { ceremonyId: ceremony.id, nodeId, result, receivedAt: now };
      const every = [...results, row];
      const complete = every.length === ceremony.participants.length;
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.insertResult(row);
        await tx.ceremonies.update(ceremony.id, { updatedAt: now });
        await tx.audit.append({
          ...this.event({ kind: 'node', id: nodeId }, 'ceremony.result_received', 'success', ceremony, nodeId),
          details: {
            ceremonyId: ceremony.id,
            identifier: participant.identifier,
            groupPublicKey: result.groupPublicKey,
            resultHash: resultDigest(result),
            roundComplete: complete,
          },
        });
      });
      if (complete) await this.conclude(ceremony, every, out);
      return 'accepted';
    });
  }

  async handleAbort(nodeId: string, frame: CeremonyAbortFrame): Promise<FrameOutcome> {
    return this.withCeremony(frame.ceremonyId, async (out): Promise<FrameOutcome> => {
      const { ceremony } = await this.open(frame.ceremonyId, nodeId);
      const culprit = frame.culprit === undefined ? undefined : ceremony.participants.find((p) => p.identifier === frame.culprit);
      const reason = `node ${nodeId} aborted the ceremony: ${frame.code}: ${frame.reason}` + (culprit ? ` (culprit ${culprit.nodeId})` : '');
      await this.fail(ceremony, frame.code, reason, culprit ? [culprit.nodeId] : [], { kind: 'node', id: nodeId }, out);
      return 'accepted';
    });
  }

  /** The sealed shares addressed to `to`, sorted by sender identifier value, with the agreed transcript hash. */
  private round2AllFrame(ceremony: CeremonyRecord, all: CeremonyShareRecord[], to: string, transcriptHash: string, deadline: Date): Outgoing<CoordinatorFrame> {
    const suite = getSuite(ceremony.suite);
    const shares = all
      .filter((s) => s.toIdentifier === to)
      .sort((a, b) => {
        const x = suite.identifierValue(a.fromIdentifier);
        const y = suite.identifierValue(b.fromIdentifier);
        return x < y ? -1 : x > y ? 1 : 0;
      })
      .map((s) => s.sealed);
    return { type: 'ceremony.round2.all', ceremonyId: ceremony.id, transcriptHash, shares, deadline: deadline.getTime() };
  }

  // ------------------------------------------------------------------ transitions

  /** Every result is in: register the key if all agree (in the transaction that completes the ceremony), else fail. */
  private async conclude(ceremony: CeremonyRecord, results: CeremonyResultRecord[], out: Outbox): Promise<void> {
    const reports = ceremony.participants.map((p) => ({ nodeId: p.nodeId, value: resultDigest(results.find((r) => r.nodeId === p.nodeId)!.result) }));
    const bad = dissenters(reports);
    if (bad.length > 0) {
      await this.fail(ceremony, 'RESULT_MISMATCH', `participants derived different keys; disagreeing: ${bad.join(', ')}`, bad, SYSTEM_ACTOR, out);
      return;
    }
    const agreed = results[0]!.result;
    const publicPackage: PublicKeyPackage = {
      suite: ceremony.suite,
      threshold: ceremony.threshold,
      maxSigners: ceremony.participants.length,
      commitments: agreed.commitments,
      verifyingShares: agreed.verifyingShares,
    };
    const input: RegisterKeyInput = {
      id: ceremony.keyId,
      publicPackage,
      members: ceremony.participants.map((p) => ({ nodeId: p.nodeId, identifier: p.identifier })),
      origin: `ceremony:${ceremony.id}`,
    };
    try {
      if (!groupKeyMatches(ceremony.suite, agreed)) {
        throw new DomainError('INVALID_KEY_PACKAGE', 'the reported group public key is not the commitment constant term');
      }
      assertRegistrable(input);
      await this.store.transaction(async (tx) => {
        const key = await registerKeyInTransaction(tx, input, SYSTEM_ACTOR);
        const now = new Date();
        await tx.ceremonies.update(ceremony.id, { status: 'completed', completedAt: now, updatedAt: now });
        await tx.audit.append({
          ...this.event(SYSTEM_ACTOR, 'ceremony.completed', 'success', ceremony),
          details: { ceremonyId: ceremony.id, groupPublicKey: key.groupPublicKey, resultHash: reports[0]!.value, transcriptHash: ceremony.transcriptHash },
        });
      });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      await this.fail(ceremony, e.code, `the agreed key could not be registered: ${e.message}`, [], SYSTEM_ACTOR, out);
      return;
    }
    this.timers.clear(ceremony.id);
    for (const p of ceremony.participants) {
      out.push([p.nodeId, { type: 'ceremony.closed', ceremonyId: ceremony.id, status: 'completed', keyId: ceremony.keyId }]);
    }
  }

  private async fail(ceremony: CeremonyRecord, code: string, reason: string, culprits: string[], actor: Actor, out: Outbox): Promise<void> {
    await this.store.transaction(async (tx) => {
      const now = new Date();
      await tx.ceremonies.update(ceremony.id, {
        status: 'failed',
        failureCode: code,
        failureReason: reason,
        culpritNodeId: culprits[0] ?? null,
        culprits,
        completedAt: now,
        updatedAt: now,
      });
      await tx.audit.append({
        ...this.event(actor, 'ceremony.failed', 'failure', ceremony),
        details: { ceremonyId: ceremony.id, code, reason, culprits, round: ceremony.status },
      });
    });
    this.timers.clear(ceremony.id);
    for (const p of ceremony.participants) {
      out.push([p.nodeId, { type: 'ceremony.closed', ceremonyId: ceremony.id, status: 'failed', reason: reasonText(`${code}: ${reason}`) }]);
    }
  }

  private async onDeadline(ceremonyId: string): Promise<void> {
    await this.withCeremony(ceremonyId, async (out) => {
      const ceremony = await this.store.read.ceremonies.findById(ceremonyId);
      if (!ceremony || isTerminalCeremony(ceremony.status)) return;
      if (ceremony.deadline.getTime() > Date.now()) return this.scheduleDeadline(ceremony);
      let answered: Set<string>;
      if (ceremony.status === 'round1') {
        answered = new Set(ceremony.participants.filter((p) => ceremony.round1[p.identifier]).map((p) => p.nodeId));
      } else if (ceremony.status === 'round2') {
        const senders = new Set((await this.store.read.ceremonies.listShares(ceremonyId)).map((s) => s.fromIdentifier));
        answered = new Set(ceremony.participants.filter((p) => senders.has(p.identifier)).map((p) => p.nodeId));
      } else {
        answered = new Set((await this.store.read.ceremonies.listResults(ceremonyId)).map((r) => r.nodeId));
      }
      const silent = ceremony.participants.map((p) => p.nodeId).filter((id) => !answered.has(id));
      const reason = `no ${ROUND_OF[ceremony.status as keyof typeof ROUND_OF]} in time from ${silent.join(', ')}`;
      await this.fail(ceremony, 'DEADLINE_PASSED', reason, silent, SYSTEM_ACTOR, out);
    });
  }

  // ------------------------------------------------------------------ lookups

  /** The ceremony and the sender's place in it; refuses unknown ceremonies, non-participants and finished ones. */
  private async open(ceremonyId: string, nodeId: string): Promise<{ ceremony: CeremonyRecord; participant: CeremonyParticipant }> {
    const ceremony = await this.store.read.ceremonies.findById(ceremonyId);
    if (!ceremony) throw new DomainError('CEREMONY_NOT_FOUND', `ceremony ${ceremonyId} not found`);
    const participant = ceremony.participants.find((p) => p.nodeId === nodeId);
    if (!participant) throw new DomainError('NOT_A_PARTICIPANT', `node is not a participant of ceremony ${ceremonyId}`);
    if (isTerminalCeremony(ceremony.status)) throw new DomainError('CEREMONY_FINISHED', `ceremony ${ceremonyId} is ${ceremony.status}`);
    return { ceremony, participant };
  }

  private roundMismatch(ceremony: CeremonyRecord, frameRound: CeremonyStatus): DomainError {
    return new DomainError('CEREMONY_ROUND_MISMATCH', `ceremony ${ceremony.id} is in ${ceremony.status}, the frame belongs to ${frameRound}`);
  }

  // ------------------------------------------------------------------ plumbing

  private event(
    actor: Actor,
    action: 'ceremony.started' | 'ceremony.round1_received' | 'ceremony.round2_received' | 'ceremony.result_received' | 'ceremony.completed' | 'ceremony.failed',
    outcome: 'success' | 'failure',
    ceremony: CeremonyRecord,
    nodeId: string | null = null,
  ) {
    return { occurredAt: new Date(), actorKind: actor.kind, actorId: actor.id, action, outcome, keyId: ceremony.keyId, nodeId };
  }

  private withCeremony<T>(ceremonyId: string, work: (out: Outbox) => Promise<T>): Promise<T> {
    return runThenSend(this.mutex, this.link, `ceremony:${ceremonyId}`, work);
  }

  private scheduleDeadline(ceremony: Pick<CeremonyRecord, 'id' | 'deadline'>): void {
    this.timers.schedule(ceremony.id, ceremony.deadline, () => this.onDeadline(ceremony.id));
  }
}

const sortShares = <S extends { from: string; to: string }>(shares: readonly S[]): S[] =>
  [...shares].sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
