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
