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
} from '#api';
import { verifierKey } from '#audit';
import { bytesToHex } from '#crypto';
import { TransparencyLogService } from '#domain';
import { Public, Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toAuditDto } from './audit.dto.js';

/** The transparency log over the audit chain: signed checkpoints, proofs, bundles (docs/protocol.md). */
@Controller('v1/audit')
@Roles('auditor')
export class TransparencyController {
  constructor(private readonly log: TransparencyLogService) {}

  /** The log's public key: all an offline verifier needs. */
  @Get('log-key')
  @Public()
  logKey(): AuditLogKeyResponse {
    const k = this.log.logKey;
    return { origin: k.origin, keyName: k.keyName, publicKey: bytesToHex(k.publicKey), verifierKey: verifierKey(k.keyName, k.publicKey) };
  }

  /** The latest signed checkpoint (issued now when entries arrived since the last one). */
  @Get('checkpoint')
  async checkpoint(): Promise<AuditCheckpointResponse> {
    const c = await this.log.checkpoint();
    return { origin: c.origin, treeSize: c.treeSize, rootHash: c.rootHash, note: c.note, createdAt: c.createdAt.toISOString(), logKey: this.logKey() };
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

  /** Entries from..to, the latest checkpoint and an inclusion proof per entry: checkable offline. */
  @Get('bundle')
  async bundle(@Query() query: unknown): Promise<AuditBundleResponse> {
    const q = parseDto(AuditBundleQuery, query);
    const b = await this.log.bundle(q.from, q.to);
    return {
      checkpoint: { note: b.checkpoint.note, treeSize: b.checkpoint.treeSize, rootHash: b.checkpoint.rootHash },
      entries: b.entries.map(toAuditDto),
      proofs: b.proofs,
      logKey: this.logKey(),
    };
  }
}
