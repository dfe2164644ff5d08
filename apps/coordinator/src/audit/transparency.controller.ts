import { Controller, Get, Query } from '@nestjs/common';
import {
  AuditBundleQuery,
  AuditConsistencyQuery,
  AuditInclusionQuery,
  type AuditBundleResponse,
  type AuditCheckpointResponse,
  type AuditConsistencyProofResponse,
  type AuditInclusionProofResponse,
  type AuditLogKeyResponse,
  type AuditWitnessesResponse,
} from '#api';
import { verifierKey } from '#audit';
import { bytesToHex } from '#crypto';
import { TransparencyLogService, WitnessService, type WitnessedCheckpoint } from '#domain';
import { Public, Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toAuditDto } from './audit.dto.js';

/** The transparency log over the audit chain: signed checkpoints, proofs, bundles (docs/protocol.md). */
@Controller('v1/audit')
@Roles('auditor')
export class TransparencyController {
  constructor(
    private readonly log: TransparencyLogService,
    private readonly witnesses: WitnessService,
  ) {}

  /** The log's public key: all an offline verifier needs. */
  @Get('log-key')
  @Public()
  logKey(): AuditLogKeyResponse {
    const k = this.log.logKey;
    return { origin: k.origin, keyName: k.keyName, publicKey: bytesToHex(k.publicKey), verifierKey: verifierKey(k.keyName, k.publicKey) };
  }

  /** The latest signed checkpoint (issued now when entries arrived since the last one), with its cosignatures. */
  @Get('checkpoint')
  async checkpoint(): Promise<AuditCheckpointResponse> {
    const w = await this.witnesses.witnessed(0);
    const c = w.checkpoint;
    return { origin: c.origin, treeSize: c.treeSize, rootHash: c.rootHash, note: w.note, createdAt: c.createdAt.toISOString(), logKey: this.logKey(), cosignatures: w.cosignatures };
  }

  /** Each enrolled node as a witness: the size it cosigned, and its latest refusal. */
  @Get('witnesses')
  async witnessStatus(): Promise<AuditWitnessesResponse> {
    const s = await this.witnesses.status();
    const latest = s.treeSize;
    return {
      origin: s.origin,
      treeSize: latest,
      witnesses: s.witnesses.map((w) => ({
        nodeId: w.nodeId,
        label: w.label,
        keyName: w.keyName,
        publicKey: w.publicKey,
        connected: w.connected,
        cosignedSize: w.cosignedSize,
        cosignedAt: w.cosignedAt?.toISOString() ?? null,
        behind: w.cosignedSize === null ? null : Math.max(0, latest - w.cosignedSize),
        lastRefusal: w.lastRefusal ? { ...w.lastRefusal, at: w.lastRefusal.at.toISOString() } : null,
      })),
    };
  }

  @Get('proof/inclusion')
  inclusion(@Query() query: unknown): Promise<AuditInclusionProofResponse> {
    const q = parseDto(AuditInclusionQuery, query);
    return this.log.inclusion(q.seq, q.size);
  }

  @Get('proof/consistency')
  consistency(@Query() query: unknown): Promise<AuditConsistencyProofResponse> {
    const q = parseDto(AuditConsistencyQuery, query);
    return this.log.consistency(q.from, q.to);
  }

  /** Entries from..to, the newest checkpoint with `witnesses` cosignatures, an inclusion proof per entry: checkable offline. */
  @Get('bundle')
  async bundle(@Query() query: unknown): Promise<AuditBundleResponse> {
    const q = parseDto(AuditBundleQuery, query);
    const w: WitnessedCheckpoint = await this.witnesses.witnessed(q.witnesses);
    const b = await this.log.bundle(q.from, q.to, w.checkpoint);
    return {
      checkpoint: { note: w.note, treeSize: b.checkpoint.treeSize, rootHash: b.checkpoint.rootHash, cosignatures: w.cosignatures },
      entries: b.entries.map(toAuditDto),
      proofs: b.proofs,
      logKey: this.logKey(),
    };
  }
}
