import { Inject, Injectable, Logger } from '@nestjs/common';
import { canonicalJson, sha256Hex } from '#crypto';
import type {
  CeremonyAbortFrame,
  CeremonyParticipant,
  CeremonyQueryFrame,
  CeremonyResultFrame,
  CeremonyRound1Frame,
  CeremonyRound2Frame,
} from '#protocol';
import type { Outbox } from '../common/outbox.js';
import { SYSTEM_ACTOR } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import {
  isTerminalCeremony,
  type CeremonyRecord,
  type CeremonyResult,
  type CeremonyResultRecord,
  type CeremonyShareRecord,
  type CeremonyStatus,
} from '../records.js';
import { completedFrame, failedFrame, round1AllFrame, round2AllFrame, startFrame } from './ceremony-outgoing.js';
import {
  assertResultSignature,
  assertRound1Package,
  assertRound1Signature,
  assertRound2Shares,
  assertTranscriptSignature,
  dissenters,
  expectedTranscriptHash,
  resultDigest,
} from './ceremony-rules.js';
import { CeremonyTransitions, ceremonyEvent } from './ceremony-transitions.js';

/** How a node frame was taken: stored, or an exact repeat of one already stored (acknowledged again). */
export type CeremonyFrameOutcome = 'accepted' | 'duplicate';

/**
 * The ceremony frames the nodes send, one method per frame (the gateway calls it with the authenticated
 * node id), and what a reconnecting node is sent again. Every handler first looks the ceremony up
 * (`open`), checks the frame, stores it with its audit entry, and moves the ceremony on when its round
 * is complete.
 */
@Injectable()
export class CeremonyRelay {
  private readonly logger = new Logger(CeremonyRelay.name);

  constructor(
    @Inject(STORE) private readonly store: Store,
    private readonly transitions: CeremonyTransitions,
  ) {}

  /**
   * A node authenticated: resend the last frame of each open ceremony it is in and has not answered
   * (it may have been lost with the old connection). A node that lost its ceremony state answers
   * `ceremony.abort` STATE_LOST, and the ceremony fails at once, naming why.
   */
  async onNodeConnected(nodeId: string): Promise<void> {
    const open = (await this.store.read.ceremonies.listOpen()).filter((c) => c.participants.some((p) => p.nodeId === nodeId));
    for (const c of open) {
      await this.transitions.withCeremony(c.id, async (out) => {
        const ceremony = await this.store.read.ceremonies.findById(c.id);
        if (!ceremony || isTerminalCeremony(ceremony.status)) return;
        const me = ceremony.participants.find((p) => p.nodeId === nodeId)!;
        if (ceremony.status === 'round1') {
          if (!ceremony.round1[me.identifier]) out.push([nodeId, startFrame(ceremony)]);
        } else if (ceremony.status === 'round2') {
          const shares = await this.store.read.ceremonies.listShares(ceremony.id);
          if (!shares.some((s) => s.fromIdentifier === me.identifier)) out.push([nodeId, round1AllFrame(ceremony)]);
        } else {
          const results = await this.store.read.ceremonies.listResults(ceremony.id);
          if (results.some((r) => r.nodeId === nodeId)) return;
          out.push([nodeId, round2AllFrame(ceremony, await this.store.read.ceremonies.listShares(ceremony.id), me.identifier)]);
        }
      });
    }
  }

  async handleRound1(nodeId: string, frame: CeremonyRound1Frame): Promise<CeremonyFrameOutcome> {
    return this.transitions.withCeremony(frame.ceremonyId, async (out): Promise<CeremonyFrameOutcome> => {
      const { ceremony, participant } = await this.open(frame.ceremonyId, nodeId);
      assertRound1Signature(ceremony.id, participant, frame.round1);
      assertRound1Package(ceremony.suite, ceremony.threshold, participant, frame.round1.package);
      const existing = ceremony.round1[participant.identifier];
      if (existing) {
        if (canonicalJson(existing) === canonicalJson(frame.round1)) return 'duplicate';
        throw new DomainError('CEREMONY_CONFLICT', 'a different round-1 package from this participant was already received');
      }
      if (ceremony.status !== 'round1') throw roundMismatch(ceremony, 'round1');
      const round1 = { ...ceremony.round1, [participant.identifier]: frame.round1 };
      const complete = Object.keys(round1).length === ceremony.participants.length;
      const now = new Date();
      const deadline = complete ? new Date(now.getTime() + ceremony.roundTimeoutMs) : ceremony.deadline;
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.update(ceremony.id, { round1, ...(complete ? { status: 'round2' as const, deadline } : {}), updatedAt: now });
        await tx.audit.append({
          ...ceremonyEvent({ kind: 'node', id: nodeId }, 'ceremony.round1_received', 'success', ceremony, nodeId),
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
        this.transitions.scheduleDeadline(next);
        const all = round1AllFrame(next);
        for (const p of ceremony.participants) out.push([p.nodeId, all]);
      }
      return 'accepted';
    });
  }

  async handleRound2(nodeId: string, frame: CeremonyRound2Frame): Promise<CeremonyFrameOutcome> {
    return this.transitions.withCeremony(frame.ceremonyId, async (out): Promise<CeremonyFrameOutcome> => {
      const { ceremony, participant } = await this.open(frame.ceremonyId, nodeId);
      if (ceremony.status === 'round1') throw roundMismatch(ceremony, 'round2');
      const all = await this.store.read.ceremonies.listShares(ceremony.id);
      const mine = all.filter((s) => s.fromIdentifier === participant.identifier);
      if (mine.length > 0) {
        const same =
          mine[0]!.transcriptHash === frame.transcriptHash &&
          mine[0]!.transcriptSignature === frame.transcriptSignature &&
          canonicalJson(sortShares(mine.map((s) => s.sealed))) === canonicalJson(sortShares(frame.shares));
        if (same) return 'duplicate';
        throw new DomainError('CEREMONY_CONFLICT', 'different round-2 shares from this participant were already received');
      }
      if (ceremony.status !== 'round2') throw roundMismatch(ceremony, 'round2');
      assertTranscriptSignature(ceremony.id, participant, frame.transcriptHash, frame.transcriptSignature);
      assertRound2Shares(ceremony.participants, participant.identifier, frame.shares);
      const now = new Date();
      const rows: CeremonyShareRecord[] = frame.shares.map((sealed) => ({
        ceremonyId: ceremony.id,
        fromIdentifier: sealed.from,
        toIdentifier: sealed.to,
        transcriptHash: frame.transcriptHash,
        transcriptSignature: frame.transcriptSignature,
        sealed,
        receivedAt: now,
      }));
      const senders = new Set([...all.map((s) => s.fromIdentifier), participant.identifier]);
      const complete = senders.size === ceremony.participants.length;
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.insertShares(rows);
        await tx.ceremonies.update(ceremony.id, { updatedAt: now });
        await tx.audit.append({
          ...ceremonyEvent({ kind: 'node', id: nodeId }, 'ceremony.round2_received', 'success', ceremony, nodeId),
          details: {
            ceremonyId: ceremony.id,
            identifier: participant.identifier,
            transcriptHash: frame.transcriptHash,
            transcriptSignature: frame.transcriptSignature,
            // Hashes of the ciphertexts only: the coordinator cannot read them.
            sealedHash: sha256Hex(canonicalJson(sortShares(frame.shares))),
            shares: frame.shares.length,
            roundComplete: complete,
          },
        });
      });
      if (complete) await this.compareTranscripts(ceremony, [...all, ...rows], out);
      return 'accepted';
    });
  }

  async handleResult(nodeId: string, frame: CeremonyResultFrame): Promise<CeremonyFrameOutcome> {
    return this.transitions.withCeremony(frame.ceremonyId, async (out): Promise<CeremonyFrameOutcome> => {
      const { ceremony, participant } = await this.open(frame.ceremonyId, nodeId);
      if (ceremony.status === 'round1' || ceremony.status === 'round2') throw roundMismatch(ceremony, 'round3');
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
          ...ceremonyEvent({ kind: 'node', id: nodeId }, 'ceremony.result_received', 'success', ceremony, nodeId),
          details: {
            ceremonyId: ceremony.id,
            identifier: participant.identifier,
            groupPublicKey: result.groupPublicKey,
            resultHash: resultDigest(result),
            roundComplete: complete,
          },
        });
      });
      if (complete) await this.transitions.conclude(ceremony, every, out);
      return 'accepted';
    });
  }

  async handleAbort(nodeId: string, frame: CeremonyAbortFrame): Promise<CeremonyFrameOutcome> {
    return this.transitions.withCeremony(frame.ceremonyId, async (out): Promise<CeremonyFrameOutcome> => {
      const { ceremony } = await this.open(frame.ceremonyId, nodeId);
      const culprit = frame.culprit === undefined ? undefined : ceremony.participants.find((p) => p.identifier === frame.culprit);
      const name = await this.transitions.nodeNames(ceremony);
      const reason = `node ${name(nodeId)} aborted the ceremony: ${frame.code}: ${frame.reason}` + (culprit ? ` (culprit ${name(culprit.nodeId)})` : '');
      await this.transitions.fail(ceremony, frame.code, reason, culprit ? [culprit.nodeId] : [], { kind: 'node', id: nodeId }, out);
      return 'accepted';
    });
  }

  /**
   * A participant asks how the ceremony ended: a finished one gets its `ceremony.closed` again (rebuilt from
   * what is stored: the registered key and the stored results, or the failure), an open one only the ack
   * (its `ceremony.closed` follows when it ends). Changes nothing.
   */
  async handleQuery(nodeId: string, frame: CeremonyQueryFrame): Promise<CeremonyFrameOutcome> {
    return this.transitions.withCeremony(frame.ceremonyId, async (out): Promise<CeremonyFrameOutcome> => {
      const ceremony = await this.find(frame.ceremonyId, nodeId);
      if (ceremony.status === 'failed') {
        out.push([nodeId, failedFrame(ceremony)]);
      } else if (ceremony.status === 'completed') {
        const [key, results] = await Promise.all([this.store.read.keys.findById(ceremony.keyId), this.store.read.ceremonies.listResults(ceremony.id)]);
        if (!key) throw new DomainError('KEY_NOT_FOUND', `ceremony ${ceremony.id} completed but its key ${ceremony.keyId} is not registered`);
        out.push([nodeId, completedFrame(ceremony, key, results)]);
      }
      return 'accepted';
    });
  }

  /** Every participant sent its shares: go on to round 3 if all signed the same transcript hash, else fail naming the dissenters. */
  private async compareTranscripts(ceremony: CeremonyRecord, every: CeremonyShareRecord[], out: Outbox): Promise<void> {
    const hashOf = (identifier: string) => every.find((s) => s.fromIdentifier === identifier)!.transcriptHash;
    const reports = ceremony.participants.map((p) => ({ nodeId: p.nodeId, value: hashOf(p.identifier) }));
    const expected = expectedTranscriptHash(ceremony);
    const bad = dissenters(reports, expected);
    if (bad.length > 0) {
      const name = await this.transitions.nodeNames(ceremony);
      const reason = `participants saw different round-1 sets (transcript hash mismatch); inconsistent: ${bad.map(name).join(', ')}`;
      await this.transitions.fail(ceremony, 'TRANSCRIPT_MISMATCH', reason, bad, SYSTEM_ACTOR, out);
      return;
    }
    const agreed = reports[0]!.value;
    if (agreed !== expected) this.logger.warn(`ceremony ${ceremony.id}: participants agree on a transcript hash the coordinator computes differently`);
    const deadline = new Date(Date.now() + ceremony.roundTimeoutMs);
    await this.store.transaction(async (tx) => {
      await tx.ceremonies.update(ceremony.id, { status: 'round3', transcriptHash: agreed, deadline, updatedAt: new Date() });
    });
    const next: CeremonyRecord = { ...ceremony, status: 'round3', transcriptHash: agreed, deadline };
    this.transitions.scheduleDeadline(next);
    for (const p of ceremony.participants) out.push([p.nodeId, round2AllFrame(next, every, p.identifier)]);
  }

  /** The ceremony, if the node is one of its participants. */
  private async find(ceremonyId: string, nodeId: string): Promise<CeremonyRecord> {
    const ceremony = await this.store.read.ceremonies.findById(ceremonyId);
    if (!ceremony) throw new DomainError('CEREMONY_NOT_FOUND', `ceremony ${ceremonyId} not found`);
    if (!ceremony.participants.some((p) => p.nodeId === nodeId)) {
      throw new DomainError('NOT_A_PARTICIPANT', `node is not a participant of ceremony ${ceremonyId}`);
    }
    return ceremony;
  }

  /** The ceremony and the sender's place in it; refuses unknown ceremonies, non-participants and finished ones. */
  private async open(ceremonyId: string, nodeId: string): Promise<{ ceremony: CeremonyRecord; participant: CeremonyParticipant }> {
    const ceremony = await this.find(ceremonyId, nodeId);
    if (isTerminalCeremony(ceremony.status)) throw new DomainError('CEREMONY_FINISHED', `ceremony ${ceremonyId} is ${ceremony.status}`);
    return { ceremony, participant: ceremony.participants.find((p) => p.nodeId === nodeId)! };
  }
}

function roundMismatch(ceremony: CeremonyRecord, frameRound: CeremonyStatus): DomainError {
  return new DomainError('CEREMONY_ROUND_MISMATCH', `ceremony ${ceremony.id} is in ${ceremony.status}, the frame belongs to ${frameRound}`);
}

const sortShares = <S extends { from: string; to: string }>(shares: readonly S[]): S[] =>
  [...shares].sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
