import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { PublicKeyPackage } from '#crypto';
import { evmAuditDetails } from '#evm';
import type { CeremonyClosedFrame, Outgoing } from '#protocol';
import { DeadlineTimers } from '../common/deadline-timers.js';
import { KeyedMutex } from '../common/keyed-mutex.js';
import { runThenSend, type Outbox } from '../common/outbox.js';
import { NODE_LINK, SYSTEM_ACTOR, type Actor, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { assertRegistrable, registerKeyInTransaction, type RegisterKeyInput } from '../keys/keys.service.js';
import { STORE, type Store } from '../ports.js';
import { isTerminalCeremony, type CeremonyRecord, type CeremonyResultRecord } from '../records.js';
import { completedFrame, failedFrame } from './ceremony-outgoing.js';
import { dissenters, groupKeyMatches, resultDigest } from './ceremony-rules.js';

export type CeremonyAuditAction =
  | 'ceremony.started'
  | 'ceremony.round1_received'
  | 'ceremony.round2_received'
  | 'ceremony.result_received'
  | 'ceremony.completed'
  | 'ceremony.failed';

/** The fields of a ceremony's audit entry, without its details. */
export function ceremonyEvent(actor: Actor, action: CeremonyAuditAction, outcome: 'success' | 'failure', ceremony: Pick<CeremonyRecord, 'keyId'>, nodeId: string | null = null) {
  return { occurredAt: new Date(), actorKind: actor.kind, actorId: actor.id, action, outcome, keyId: ceremony.keyId, nodeId };
}

const ROUND_OF: Record<'round1' | 'round2' | 'round3', string> = { round1: 'round-1 package', round2: 'round-2 shares', round3: 'result' };

/**
 * How a ceremony ends, and the machinery every ceremony event runs in: one mutex per ceremony, the round
 * deadlines, and the two terminal transitions (`conclude`: register the agreed key; `fail`). Shared by the
 * REST use cases (CeremonyService) and the node frame handlers (CeremonyRelay).
 *
 * As in the signing service: every event of one ceremony runs under that ceremony's mutex, every state
 * change commits in one transaction with its audit entries, frames leave only after the commit.
 */
@Injectable()
export class CeremonyTransitions implements OnModuleDestroy {
  private readonly logger = new Logger(CeremonyTransitions.name);
  private readonly mutex = new KeyedMutex();
  private readonly timers = new DeadlineTimers((id, e) => this.logger.error(`ceremony ${id} deadline: ${(e as Error).message}`));

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
  ) {}

  onModuleDestroy(): void {
    this.timers.stop();
    if (this.scheduler) clearInterval(this.scheduler);
  }

  /**
   * Runs `work` under the ceremony's mutex and its lock across coordinator instances (an event reads the
   * ceremony and writes it in separate transactions); the frames it pushes leave once it returns (after
   * its commits).
   */
  withCeremony<T>(ceremonyId: string, work: (out: Outbox) => Promise<T>): Promise<T> {
    return runThenSend(this.mutex, this.link, `ceremony:${ceremonyId}`, (out) => this.store.exclusive(`ceremony:${ceremonyId}`, () => work(out)));
  }

  private scheduler: NodeJS.Timeout | undefined;

  /**
   * Every `intervalMs`, fails the ceremonies whose round deadline passed with no timer of this process to
   * see it (one armed by an instance that is gone). The lock makes the transition happen once.
   */
  startScheduler(intervalMs: number): void {
    if (this.scheduler || intervalMs <= 0) return;
    this.scheduler = setInterval(() => {
      this.store.read.ceremonies
        .listOpen()
        .then(async (open) => {
          for (const c of open) if (c.deadline.getTime() <= Date.now()) await this.onDeadline(c.id);
        })
        .catch((e: unknown) => this.logger.warn(`ceremony scheduler: ${(e as Error).message}`));
    }, intervalMs);
    this.scheduler.unref();
  }

  /** (Re)arms the ceremony's timer for its current round's deadline. */
  scheduleDeadline(ceremony: Pick<CeremonyRecord, 'id' | 'deadline'>): void {
    this.timers.schedule(ceremony.id, ceremony.deadline, () => this.onDeadline(ceremony.id));
  }

  /** How reasons name the ceremony's participants: "ops-1 (3f2c…)". */
  async nodeNames(ceremony: Pick<CeremonyRecord, 'participants'>): Promise<(nodeId: string) => string> {
    const nodes = await this.store.read.nodes.listByIds(ceremony.participants.map((p) => p.nodeId));
    const labels = new Map(nodes.map((n) => [n.id, n.label]));
    return (nodeId) => (labels.has(nodeId) ? `${labels.get(nodeId)} (${nodeId})` : nodeId);
  }

  /** Every result is in: register the key if all agree (in the transaction that completes the ceremony), else fail. */
  async conclude(ceremony: CeremonyRecord, results: CeremonyResultRecord[], out: Outbox): Promise<void> {
    const reports = ceremony.participants.map((p) => ({ nodeId: p.nodeId, value: resultDigest(results.find((r) => r.nodeId === p.nodeId)!.result) }));
    const bad = dissenters(reports);
    if (bad.length > 0) {
      const name = await this.nodeNames(ceremony);
      await this.fail(ceremony, 'RESULT_MISMATCH', `participants derived different keys; disagreeing: ${bad.map(name).join(', ')}`, bad, SYSTEM_ACTOR, out);
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
    let closed: Outgoing<CeremonyClosedFrame>;
    try {
      if (!groupKeyMatches(ceremony.suite, agreed)) {
        throw new DomainError('INVALID_KEY_PACKAGE', "the reported group public key is not the commitment constant term in the suite's standard encoding");
      }
      assertRegistrable(input);
      closed = await this.store.transaction(async (tx) => {
        const key = await registerKeyInTransaction(tx, input, SYSTEM_ACTOR);
        const now = new Date();
        await tx.ceremonies.update(ceremony.id, { status: 'completed', completedAt: now, updatedAt: now });
        await tx.audit.append({
          ...ceremonyEvent(SYSTEM_ACTOR, 'ceremony.completed', 'success', ceremony),
          details: {
            ceremonyId: ceremony.id,
            groupPublicKey: key.groupPublicKey,
            resultHash: reports[0]!.value,
            transcriptHash: ceremony.transcriptHash,
            // secp256k1: whether contracts can verify the new key (an unusable one is registered all the same).
            ...evmAuditDetails(key.suite, key.groupPublicKey),
          },
        });
        return completedFrame(ceremony, key, results);
      });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      await this.fail(ceremony, e.code, `the agreed key could not be registered: ${e.message}`, [], SYSTEM_ACTOR, out);
      return;
    }
    this.timers.clear(ceremony.id);
    for (const p of ceremony.participants) out.push([p.nodeId, closed]);
  }

  async fail(ceremony: CeremonyRecord, code: string, reason: string, culprits: string[], actor: Actor, out: Outbox): Promise<void> {
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
        ...ceremonyEvent(actor, 'ceremony.failed', 'failure', ceremony),
        details: { ceremonyId: ceremony.id, code, reason, culprits, round: ceremony.status },
      });
    });
    this.timers.clear(ceremony.id);
    const closed = failedFrame({ id: ceremony.id, failureCode: code, failureReason: reason });
    for (const p of ceremony.participants) out.push([p.nodeId, closed]);
  }

  /** A round's deadline passed: the ceremony fails, blaming who had not answered that round. */
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
      const name = await this.nodeNames(ceremony);
      const reason = `no ${ROUND_OF[ceremony.status as keyof typeof ROUND_OF]} in time from ${silent.map(name).join(', ')}`;
      await this.fail(ceremony, 'DEADLINE_PASSED', reason, silent, SYSTEM_ACTOR, out);
    });
  }
}
