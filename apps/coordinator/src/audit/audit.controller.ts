import { Controller, Get, Query } from '@nestjs/common';
import { AuditQuery, type AuditPageResponse, type AuditVerifyResponse } from '#api';
import { AuditService } from '#domain';
import { Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toAuditPage } from './audit.dto.js';

/** Read-only; an auditor reads it all. */
@Controller('v1/audit')
@Roles('auditor')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Filtered entries in chain order; page with `after=<nextAfter>`. */
  @Get()
  async query(@Query() query: unknown): Promise<AuditPageResponse> {
    const q = parseDto(AuditQuery, query);
    const entries = await this.audit.query({
      ...(q.requestId ? { requestId: q.requestId } : {}),
      ...(q.keyId ? { keyId: q.keyId } : {}),
      ...(q.nodeId ? { nodeId: q.nodeId } : {}),
      ...(q.attemptId ? { attemptId: q.attemptId } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.from ? { from: new Date(q.from) } : {}),
      ...(q.to ? { to: new Date(q.to) } : {}),
      ...(q.after !== undefined ? { afterSeq: q.after } : {}),
      limit: q.limit,
    });
    return toAuditPage(entries, q.limit);
  }

  /** Recomputes the hash chain from the first entry; names the first broken link. */
  @Get('verify')
  verify(): Promise<AuditVerifyResponse> {
    return this.audit.verify();
  }
}
