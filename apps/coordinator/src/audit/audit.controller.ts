import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AUDIT_ACTIONS, AuditService, type AuditEntry } from '#domain';
import { AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';

const AuditQuery = z.strictObject({
  requestId: z.uuid().optional(),
  keyId: z.uuid().optional(),
  nodeId: z.uuid().optional(),
  attemptId: z.uuid().optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const toAuditDto = (e: AuditEntry) => ({
  seq: e.seq,
  id: e.id,
  occurredAt: e.occurredAt.toISOString(),
  actor: { kind: e.actorKind, id: e.actorId },
  action: e.action,
  outcome: e.outcome,
  keyId: e.keyId,
  requestId: e.requestId,
  attemptId: e.attemptId,
  nodeId: e.nodeId,
  details: e.details,
  prevHash: e.prevHash,
  hash: e.hash,
});

@Controller('v1/audit')
@UseGuards(AdminGuard)
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Filtered entries in chain order; page with `after=<nextAfter>`. */
  @Get()
  async query(@Query() query: unknown) {
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
    const last = entries[entries.length - 1];
    return { entries: entries.map(toAuditDto), nextAfter: entries.length === q.limit && last ? last.seq : null };
  }

  /** Recomputes the hash chain from the first entry; names the first broken link. */
  @Get('verify')
  verify() {
    return this.audit.verify();
  }
}
