import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { cosignerName, splitNote, verifyCosignatureLine, withSignatures } from '#audit';
import { bytesToHex, hexToBytes } from '#crypto';
import type { AuditCosignatureFrame, AuditRefusedFrame } from '#protocol';
import { NODE_LINK, type NodeLink } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { AuditCheckpointRecord, AuditCosignatureRecord } from '../records.js';
import type { FrameOutcome } from '../signing/signing.service.js';
import { AUDIT_LOG_KEY, TransparencyLogService, type AuditLogKey } from './transparency-log.service.js';

/** A cosignature as the API shows it: with the node and its identity key, what a verifier is given. */
export interface CosignatureView {
  nodeId: string;
  keyName: string;
  publicKey: string;
  timestamp: number;
  line: string;
}

/** A checkpoint with every cosignature collected for it, in its note and listed. */
export interface WitnessedCheckpoint {
  checkpoint: AuditCheckpointRecord;
  note: string;
  cosignatures: CosignatureView[];
}

export interface WitnessStatus {
  nodeId: string;
  label: string;
  keyName: string;
  publicKey: string;
  connected: boolean;
  cosignedSize: number | null;
  cosignedAt: Date | null;
  lastRefusal: { code: string; message: string; treeSize: number; at: Date } | null;
}

/** A cosignature dated further ahead than this is refused (C2SP: verifiers MAY reject future timestamps). */
const MAX_CLOCK_SKEW_S = 300;
/** A checkpoint sent and not answered is offered again after this long (a reply lost with its connection). */
const OFFER_RETRY_MS = 30_000;
/**
 * Nodes shown a checkpoint per round, most behind first: with thousands of nodes connected, a round must
 * not send (and then verify and store) thousands of frames every interval. The others follow in later
 * rounds, as the ones that cosigned stop being the most behind.
 */
export const MAX_WITNESS_OFFERS_PER_ROUND = 64;

/**
 * The signer nodes as witnesses of the transparency log. Every instance shows the latest checkpoint to the
 * nodes connected to it that have not cosigned it yet, with a consistency proof from the largest size each
 * cosigned (read from the database, so that any instance can carry on); stores each cosignature once it
 * verifies under the node's identity key; records refusals, and answers a node that names another size
 * (CHECKPOINT_OLD_SIZE) with a proof from that size. What is in memory (offers in flight) only saves
 * resending; nothing correct depends on it.
 */
@Injectable()
export class WitnessService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(WitnessService.name);
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  /** nodeId -> the checkpoint size offered, on which connection, when. */
  private readonly offers = new Map<string, { treeSize: number; connection: string; at: number; oldSize: number }>();

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(NODE_LINK) private readonly link: NodeLink,
    private readonly log: TransparencyLogService,
    @Optional() @Inject(AUDIT_LOG_KEY) private readonly key: AuditLogKey | null,
  ) {}

  onModuleInit(): void {
    const ms = this.key?.witnessIntervalMs ?? 0;
    if (ms > 0) {
      this.timer = setInterval(() => void this.tick(), ms);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Offers the latest checkpoint to the connected nodes that have not cosigned it, most behind first, at most MAX_WITNESS_OFFERS_PER_ROUND (one run at a time). */
  tick(): Promise<void> {
    this.ticking ??= this.offerLatest()
      .catch((e: unknown) => this.logger.warn(`witness round failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async offerLatest(): Promise<void> {
    if (!this.key) return;
    const connected = this.link.connectedNodeIds();
    if (connected.length === 0) return;
    const checkpoint = await this.log.latestIssued();
    if (!checkpoint) return;
    const cosigned = new Map((await this.store.read.audit.latestCosignatures(this.key.origin, connected)).map((c) => [c.nodeId, c.treeSize]));
    const now = Date.now();
    const due = connected.filter((nodeId) => {
      const size = cosigned.get(nodeId);
      if (size !== undefined && size >= checkpoint.treeSize) return false;
      const connection = this.link.connection(nodeId)?.id ?? '';
      const offer = this.offers.get(nodeId);
      return !(offer && offer.treeSize === checkpoint.treeSize && offer.connection === connection && now - offer.at < OFFER_RETRY_MS);
    });
    due.sort((a, b) => (cosigned.get(a) ?? 0) - (cosigned.get(b) ?? 0));
    for (const nodeId of due.slice(0, MAX_WITNESS_OFFERS_PER_ROUND)) await this.offer(nodeId, checkpoint, cosigned.get(nodeId) ?? 0);
  }

  private async offer(nodeId: string, checkpoint: AuditCheckpointRecord, oldSize: number): Promise<void> {
    const key = this.log.logKey;
    const proof = await this.log.consistency(oldSize, checkpoint.treeSize);
    const sent = this.link.send(nodeId, {
      type: 'audit.checkpoint',
      origin: checkpoint.origin,
      treeSize: checkpoint.treeSize,
      note: checkpoint.note,
      logPublicKey: bytesToHex(key.publicKey),
      oldSize,
      consistency: proof.hashes,
    });
    if (sent) this.offers.set(nodeId, { treeSize: checkpoint.treeSize, connection: this.link.connection(nodeId)?.id ?? '', at: Date.now(), oldSize });
  }

  /** `audit.cosignature`: verified under the node's identity key against the checkpoint's body, then stored. */
  async handleCosignature(nodeId: string, frame: AuditCosignatureFrame): Promise<FrameOutcome> {
    const checkpoint = await this.store.read.audit.checkpointAt(frame.origin, frame.treeSize);
    if (!checkpoint) throw new DomainError('CHECKPOINT_NOT_FOUND', `no checkpoint of ${frame.origin} has size ${frame.treeSize}`);
    const node = await this.store.read.nodes.findById(nodeId);
    if (!node) throw new DomainError('NODE_NOT_FOUND', `node ${nodeId} is not enrolled`);
    const keyName = cosignerName(node.publicKey);
    const verdict = verifyCosignatureLine(frame.line, splitNote(checkpoint.note).body, keyName, hexToBytes(node.publicKey));
    if (!verdict.ok) throw new DomainError('COSIGNATURE_INVALID', `the cosignature of ${frame.origin} size ${frame.treeSize} is refused: ${verdict.reason}`);
    if (verdict.timestamp > Date.now() / 1000 + MAX_CLOCK_SKEW_S) {
      throw new DomainError('COSIGNATURE_INVALID', `the cosignature is dated ${verdict.timestamp}, in the future`);
    }
    const record: AuditCosignatureRecord = {
      origin: frame.origin,
      treeSize: frame.treeSize,
      nodeId,
      keyName,
      signedAt: verdict.timestamp,
      line: frame.line,
      createdAt: new Date(),
    };
    const inserted = await this.store.read.audit.saveCosignature(record);
    if (this.offers.get(nodeId)?.treeSize === frame.treeSize) this.offers.delete(nodeId);
    return inserted ? 'accepted' : 'duplicate';
  }

  /**
   * `audit.refused`: CHECKPOINT_OLD_SIZE is answered once with a proof from the size the node cosigned;
   * anything else is recorded as the node's latest refusal (CHECKPOINT_INCONSISTENT: the node says this
   * log is not the one it witnessed, an alarm) and logged.
   */
  async handleRefused(nodeId: string, frame: AuditRefusedFrame): Promise<FrameOutcome> {
    const offer = this.offers.get(nodeId);
    if (frame.code === 'CHECKPOINT_OLD_SIZE' && frame.witnessSize !== undefined && frame.witnessSize <= frame.treeSize) {
      const checkpoint = await this.store.read.audit.checkpointAt(frame.origin, frame.treeSize);
      // Once per offer: a node that names yet another size for the same checkpoint waits for the next round.
      if (checkpoint && !(offer && offer.treeSize === frame.treeSize && offer.oldSize === frame.witnessSize)) {
        await this.offer(nodeId, checkpoint, frame.witnessSize);
        return 'accepted';
      }
    }
    await this.store.read.audit.saveWitnessRefusal({
      origin: frame.origin,
      nodeId,
      code: frame.code,
      message: frame.message,
      treeSize: frame.treeSize,
      refusedAt: new Date(),
    });
    const text = `node ${nodeId} refused checkpoint ${frame.origin} size ${frame.treeSize}: ${frame.code} ${frame.message}`;
    if (frame.code === 'CHECKPOINT_INCONSISTENT' || frame.code === 'LOG_KEY_CHANGED') this.logger.error(text);
    else this.logger.warn(text);
    return 'accepted';
  }

  /** The checkpoint with its cosignatures: the note gets their lines after the log's own. */
  async withCosignatures(checkpoint: AuditCheckpointRecord): Promise<WitnessedCheckpoint> {
    const cosignatures = await this.store.read.audit.cosignaturesOf(checkpoint.origin, checkpoint.treeSize);
    const nodes = new Map((await this.store.read.nodes.listByIds(cosignatures.map((c) => c.nodeId))).map((n) => [n.id, n]));
    const views = cosignatures.map((c) => ({ nodeId: c.nodeId, keyName: c.keyName, publicKey: nodes.get(c.nodeId)?.publicKey ?? '', timestamp: c.signedAt, line: c.line }));
    return { checkpoint, note: withSignatures(checkpoint.note, views.map((v) => v.line)), cosignatures: views };
  }

  /** The newest checkpoint with at least `min` cosignatures (min 0: the latest, issued if entries arrived). */
  async witnessed(min: number): Promise<WitnessedCheckpoint> {
    if (min <= 0) return this.withCosignatures(await this.log.checkpoint());
    const checkpoint = await this.store.read.audit.latestCheckpointWith(this.log.logKey.origin, min);
    if (!checkpoint) throw new DomainError('CHECKPOINT_NOT_WITNESSED', `no checkpoint has ${min} cosignatures yet`, { witnesses: min });
    return this.withCosignatures(checkpoint);
  }

  /** Each enrolled node as a witness: the largest size it cosigned and its latest refusal. */
  async status(): Promise<{ origin: string; treeSize: number; witnesses: WitnessStatus[] }> {
    const { origin } = this.log.logKey;
    const [latest, nodes, refusals] = await Promise.all([this.log.latestIssued(), this.store.read.nodes.list(), this.store.read.audit.witnessRefusals(origin)]);
    const cosigned = await this.store.read.audit.latestCosignatures(origin, nodes.map((n) => n.id));
    const byNode = new Map(cosigned.map((c) => [c.nodeId, c]));
    const refusedBy = new Map(refusals.map((r) => [r.nodeId, r]));
    const connected = await this.link.connectedAmong(nodes.map((n) => n.id));
    return {
      origin,
      treeSize: latest?.treeSize ?? 0,
      witnesses: nodes.map((n) => {
        const c = byNode.get(n.id);
        const r = refusedBy.get(n.id);
        return {
          nodeId: n.id,
          label: n.label,
          keyName: cosignerName(n.publicKey),
          publicKey: n.publicKey,
          connected: connected.has(n.id),
          cosignedSize: c?.treeSize ?? null,
          cosignedAt: c ? new Date(c.signedAt * 1000) : null,
          // A refusal older than the latest cosignature is history, not status.
          lastRefusal: r && (!c || r.refusedAt.getTime() >= c.createdAt.getTime()) ? { code: r.code, message: r.message, treeSize: r.treeSize, at: r.refusedAt } : null,
        };
      }),
    };
  }
}
