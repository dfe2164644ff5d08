import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { getSuite, type SuiteId } from '#crypto';
import { CEREMONY_ROUND_MS, MAX_CEREMONY_PARTICIPANTS, packageFits, type CeremonyParticipant } from '#protocol';
import { auditActor } from '../common/actor.js';
import { NODE_LINK, type Actor, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { CeremonyRecord } from '../records.js';
import { listCeremonyViews, loadCeremonyView, type CeremonyListFilter } from './ceremony-views.js';
import { startFrame } from './ceremony-outgoing.js';
import { CeremonyTransitions, ceremonyEvent } from './ceremony-transitions.js';

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


/**
 * Distributed key generations (noble's DKG.round1/2/3) relayed between participants: the admin's use
 * cases (start, view, list) and the recovery at boot. The coordinator holds nothing secret: round-1
 * packages are public (signed by each participant's identity key and bound to the ceremony), round-2
 * shares are sealed end to end, results are public key packages. The nodes' frames are CeremonyRelay's;
 * how a ceremony ends is CeremonyTransitions'.
 */
@Injectable()
export class CeremonyService {
  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
    private readonly transitions: CeremonyTransitions,
  ) {}

  async start(input: StartCeremonyInput, actor: Actor): Promise<CeremonyRecord> {
    const n = input.nodeIds.length;
    const t = input.threshold;
    if (!Number.isInteger(t) || t < 2 || t > n || n > MAX_CEREMONY_PARTICIPANTS) {
      throw new DomainError('VALIDATION_FAILED', `need 2 <= threshold <= participants <= ${MAX_CEREMONY_PARTICIPANTS}; got threshold ${t} of ${n}`);
    }
    if (new Set(input.nodeIds).size !== n) throw new DomainError('VALIDATION_FAILED', 'the participants must be distinct nodes');
    const roundMs = input.deadlineMs ?? CEREMONY_ROUND_MS.default;
    if (!Number.isInteger(roundMs) || roundMs < CEREMONY_ROUND_MS.min || roundMs > CEREMONY_ROUND_MS.max) {
      throw new DomainError('VALIDATION_FAILED', `deadlineMs must be an integer in [${CEREMONY_ROUND_MS.min}, ${CEREMONY_ROUND_MS.max}]`);
    }
    const suite = getSuite(input.suite);
    if (!packageFits(1, t, suite)) {
      throw new DomainError('VALIDATION_FAILED', `a signing package for ${t} signers of ${input.suite} would not fit in one frame`);
    }
    const participants: CeremonyParticipant[] = [];
    const connected = await this.link.connectedAmong(input.nodeIds);
    for (const [i, nodeId] of input.nodeIds.entries()) {
      const node = await this.store.read.nodes.findById(nodeId);
      if (!node) throw new DomainError('NODE_NOT_FOUND', `node ${nodeId} is not enrolled`);
      if (node.status !== 'active') throw new DomainError('NODE_REVOKED', `node ${nodeId} is revoked`);
      if (!connected.has(nodeId)) throw new DomainError('NODE_NOT_CONNECTED', `node ${nodeId} (${node.label}) is not connected`);
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
    await this.transitions.withCeremony(ceremony.id, async (out) => {
      await this.store.transaction(async (tx) => {
        await tx.ceremonies.insert(ceremony);
        await tx.audit.append({
          ...ceremonyEvent(actor, 'ceremony.started', 'success', ceremony),
          details: auditActor(actor, {
            ceremonyId: ceremony.id,
            suite: ceremony.suite,
            threshold: t,
            participants: participants.map((p) => ({ nodeId: p.nodeId, identifier: p.identifier, identityKey: p.identityKey })),
            deadline: ceremony.deadline.toISOString(),
            roundTimeoutMs: roundMs,
          }).details,
        });
      });
      this.transitions.scheduleDeadline(ceremony);
      const frame = startFrame(ceremony);
      for (const p of participants) out.push([p.nodeId, frame]);
    });
    return ceremony;
  }

  view(ceremonyId: string): Promise<CeremonyView> {
    return loadCeremonyView(this.store.read, ceremonyId);
  }

  /** A page of ceremony views in a constant number of reads (ceremony-views.ts). */
  listViews(filter: CeremonyListFilter): Promise<CeremonyView[]> {
    return listCeremonyViews(this.store.read, filter);
  }

  /** At boot: re-arms the deadlines of ceremonies still in a round (past ones fire at once). */
  async recover(): Promise<number> {
    const open = await this.store.read.ceremonies.listOpen();
    for (const c of open) this.transitions.scheduleDeadline(c);
    return open.length;
  }
}
