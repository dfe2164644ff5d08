import { Controller, Get, Query } from '@nestjs/common';
import { AuditQuery, type AuditPageResponse, type AuditVerifyResponse } from '#api';
import { AuditService } from '#domain';
import { Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { auditFilterOf, toAuditPage } from './audit.dto.js';

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
      ...auditFilterOf(q),
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
