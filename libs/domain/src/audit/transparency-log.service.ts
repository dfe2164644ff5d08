import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  consistencyProof,
  entryLeafHash,
  inclusionProof,
  proofsFor,
  signCheckpoint,
  treeHash,
  type BundleProof,
  type Hash,
} from '#audit';
import { bytesToHex } from '#crypto';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { AuditCheckpointRecord, AuditEntry } from '../records.js';

/** The coordinator's own log key (an Ed25519 note key) and the checkpoints' origin line. */
export interface AuditLogKey {
  readonly origin: string;
  readonly keyName: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** How often the timer issues a checkpoint while entries arrive (0: only on demand). */
  readonly checkpointIntervalMs: number;
  /** How often connected nodes are shown the latest checkpoint to cosign (0: never; see WitnessService). */
  readonly witnessIntervalMs?: number;
}
export const AUDIT_LOG_KEY = Symbol('AUDIT_LOG_KEY');

const BATCH = 5_000;

/**
 * The RFC 6962 Merkle tree over the audit chain (leaf i: the entry with seq i + 1, leaf data: its chain
 * hash) and its signed checkpoints. The tree is derived from audit_log, read incrementally into memory
 * (entries never change); checkpoints are stored, one per (origin, size), so that every instance serves
 * the same notes.
 */
@Injectable()
export class TransparencyLogService implements OnModuleInit, OnModuleDestroy {
  private readonly leaves: Hash[] = [];
  private syncing: Promise<number> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Optional() @Inject(AUDIT_LOG_KEY) private readonly key: AuditLogKey | null,
  ) {}

  onModuleInit(): void {
    const ms = this.key?.checkpointIntervalMs ?? 0;
    if (ms > 0) {
      this.timer = setInterval(() => void this.checkpoint().catch(() => undefined), ms);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get logKey(): AuditLogKey {
    if (!this.key) throw new DomainError('NOT_FOUND', 'this coordinator has no audit log key');
    return this.key;
  }

  /** The newest stored checkpoint of this log's origin, without issuing one (null while there is none). */
  latestIssued(): Promise<AuditCheckpointRecord | null> {
    return this.key ? this.store.read.audit.latestCheckpoint(this.key.origin) : Promise.resolve(null);
  }

  /** Reads the leaves appended since the last call; returns the tree size. One read at a time. */
  sync(): Promise<number> {
    this.syncing ??= this.load().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async load(): Promise<number> {
    for (;;) {
      const batch = await this.store.read.audit.hashesAfter(this.leaves.length, BATCH);
      for (const { seq, hash } of batch) {
        if (seq !== this.leaves.length + 1) throw new Error(`audit log seq ${seq} follows ${this.leaves.length}: the log has a gap`);
        this.leaves.push(entryLeafHash(hash));
      }
      if (batch.length < BATCH) return this.leaves.length;
    }
  }

  /** The latest checkpoint, issuing one first when entries arrived since (never two for one size). */
  async checkpoint(): Promise<AuditCheckpointRecord> {
    const key = this.logKey;
    const latest = await this.store.read.audit.latestCheckpoint(key.origin);
    const size = await this.sync();
    if (latest && latest.treeSize >= size) return latest;
    const root = treeHash(this.leaves, size);
    const record: AuditCheckpointRecord = {
      origin: key.origin,
      treeSize: size,
      rootHash: bytesToHex(root),
      keyName: key.keyName,
      note: signCheckpoint({ origin: key.origin, size, root }, { name: key.keyName, secretKey: key.secretKey }),
      createdAt: new Date(),
    };
    if (await this.store.read.audit.saveCheckpoint(record)) return record;
    return (await this.store.read.audit.latestCheckpoint(key.origin)) ?? record;
  }

  async inclusion(seq: number, size: number): Promise<BundleProof & { leafIndex: number }> {
    await this.requireSize(size);
    if (seq < 1 || seq > size) throw new DomainError('VALIDATION_FAILED', `seq ${seq} is not in a tree of size ${size}`);
    return { seq, leafIndex: seq - 1, treeSize: size, hashes: inclusionProof(this.leaves, seq - 1, size).map(bytesToHex) };
  }

  async consistency(from: number, to: number): Promise<{ from: number; to: number; hashes: string[] }> {
    await this.requireSize(to);
    if (from > to) throw new DomainError('VALIDATION_FAILED', `from (${from}) must not exceed to (${to})`);
    return { from, to, hashes: consistencyProof(this.leaves, from, to).map(bytesToHex) };
  }

  /**
   * Entries from..to (capped at the checkpoint's size), the checkpoint (the latest unless one is given),
   * and a proof per entry in that checkpoint's tree.
   */
  async bundle(from: number, to: number, at?: AuditCheckpointRecord): Promise<{ checkpoint: AuditCheckpointRecord; entries: AuditEntry[]; proofs: BundleProof[] }> {
    if (from > to) throw new DomainError('VALIDATION_FAILED', `from (${from}) must not exceed to (${to})`);
    const checkpoint = at ?? (await this.checkpoint());
    const last = Math.min(to, checkpoint.treeSize);
    const entries = last < from ? [] : await this.store.read.audit.listAfter(from - 1, last - from + 1);
    await this.requireSize(checkpoint.treeSize);
    return { checkpoint, entries, proofs: proofsFor(entries, this.leaves, checkpoint.treeSize) };
  }

  private async requireSize(size: number): Promise<void> {
    const head = this.leaves.length >= size ? this.leaves.length : await this.sync();
    if (size > head) throw new DomainError('VALIDATION_FAILED', `the log has ${head} entries, not ${size}`);
  }
}
