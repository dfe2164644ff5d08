import { once } from 'node:events';
import { Controller, Get, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AUDIT_CSV_COLUMNS, AuditExportQuery, type AuditEntryResponse } from '#api';
import { canonicalJson } from '#crypto';
import { AuditService } from '#domain';
import { Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { auditFilterOf, toAuditDto } from './audit.dto.js';

const PAGE = 500;

/**
 * Text a spreadsheet would read as a formula (`=HYPERLINK(...)`, `+`, `-`, `@`) or that some strip to
 * reach one (a leading tab or carriage return). The CSV export is for spreadsheets, so such a cell gets a
 * leading `'` (OWASP's advice against CSV injection); JSON lines and bundles keep exact values for verifiers.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell: a text that could start a formula is prefixed with `'`, then RFC 4180 quoting applies (a
 * field with a comma, a quote or a line break is quoted, its quotes doubled), so the `'` is inside the field.
 */
export const csvField = (v: string | number | null | Record<string, unknown>): string => {
  const text = v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : canonicalJson(v);
  const s = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export const csvRow = (e: AuditEntryResponse): string =>
  AUDIT_CSV_COLUMNS.map((c) => csvField(c === 'actorKind' ? e.actor.kind : c === 'actorId' ? e.actor.id : e[c])).join(',') + '\r\n';

@Controller('v1/audit')
@Roles('auditor')
export class AuditExportController {
  constructor(private readonly audit: AuditService) {}

  /** Streams every matching entry, read in pages of 500 and written as they are read (never one big array). */
  @Get('export')
  async export(@Query() query: unknown, @Res() res: Response): Promise<void> {
    const q = parseDto(AuditExportQuery, query);
    const filter = auditFilterOf(q);
    let after = q.after ?? 0;
    let batch = await this.audit.query({ ...filter, afterSeq: after, limit: PAGE });
    res.status(200);
    res.type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="audit.${q.format}"`);
    const write = async (chunk: string) => {
      if (!res.write(chunk)) await once(res, 'drain');
    };
    try {
      if (q.format === 'csv') await write(AUDIT_CSV_COLUMNS.join(',') + '\r\n');
      for (;;) {
        for (const e of batch) await write(q.format === 'csv' ? csvRow(toAuditDto(e)) : `${JSON.stringify(toAuditDto(e))}\n`);
        if (batch.length < PAGE || res.destroyed) break;
        after = batch[batch.length - 1]!.seq;
        batch = await this.audit.query({ ...filter, afterSeq: after, limit: PAGE });
      }
      res.end();
    } catch (e) {
      // Headers are gone: the only honest signal left is a truncated, aborted response.
      res.destroy(e as Error);
    }
  }
}
