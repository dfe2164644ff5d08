import { describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig, settingsHelp } from './coordinator-config.js';

const TOKEN = { ROUNDTABLE_ADMIN_TOKEN: 'x'.repeat(16) };

describe('coordinator config', () => {
  it('applies defaults and freezes the result', () => {
    const config = loadConfig(TOKEN);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, databaseUrl: undefined, coordinatorId: 'roundtable', attemptStaggerMs: 500 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...TOKEN, DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ ROUNDTABLE_ADMIN_TOKEN: 'short', PORT: '99999', DATABASE_URL: 'mysql://x', COORDINATOR_ID: 'has space' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['ROUNDTABLE_ADMIN_TOKEN', 'PORT', 'DATABASE_URL', 'COORDINATOR_ID']) expect(message).toContain(name);
  });

  it('refuses a default TTL above the maximum', () => {
    expect(() => loadConfig({ ...TOKEN, REQUEST_TTL_MS: '5000', MAX_REQUEST_TTL_MS: '2000' })).toThrow(/REQUEST_TTL_MS/);
  });

  it('reads the admin token from ROUNDTABLE_ADMIN_TOKEN, the name the CLIs use', () => {
    expect(loadConfig(TOKEN).adminToken).toBe('x'.repeat(16));
  });

  it('refuses the old ADMIN_TOKEN alone, telling to rename it', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'y'.repeat(16) })).toThrow(/ADMIN_TOKEN: was renamed; set ROUNDTABLE_ADMIN_TOKEN instead/);
    // Only the rename is reported, not also "ROUNDTABLE_ADMIN_TOKEN: required".
    expect(() => loadConfig({ ADMIN_TOKEN: 'y'.repeat(16) })).not.toThrow(/ROUNDTABLE_ADMIN_TOKEN:/);
  });

  it('has tight HTTP deadlines and per-address limits by default, all configurable', () => {
    const defaults = loadConfig(TOKEN);
    expect(defaults.httpHeadersTimeoutMs).toBeLessThanOrEqual(10_000);
    expect(defaults.httpRequestTimeoutMs).toBeLessThanOrEqual(60_000);
    expect(defaults.databaseConnectTimeoutMs).toBe(30_000);
    expect(defaults.maxConnectionsPerAddress).toBeGreaterThanOrEqual(defaults.maxUnauthenticatedPerAddress);
    const set = loadConfig({
      ...TOKEN,
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
      MAX_CONNECTIONS_PER_ADDRESS: '7',
      MAX_UNAUTHENTICATED_PER_ADDRESS: '3',
      DATABASE_CONNECT_TIMEOUT_MS: '0',
    });
    expect(set).toMatchObject({ httpHeadersTimeoutMs: 1000, httpRequestTimeoutMs: 2000, maxConnectionsPerAddress: 7, maxUnauthenticatedPerAddress: 3, databaseConnectTimeoutMs: 0 });
    expect(() => loadConfig({ ...TOKEN, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });

  it('--help lists every variable with its default, from the schema', () => {
    const rows = settingsHelp();
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('ROUNDTABLE_ADMIN_TOKEN')?.default).toBe('(required)');
    expect(byName.get('DATABASE_URL')?.default).toBe('(unset)');
    expect(byName.get('PORT')?.default).toBe('8080');
    expect(byName.get('HTTP_HEADERS_TIMEOUT_MS')?.default).toBe(String(loadConfig(TOKEN).httpHeadersTimeoutMs));
    expect(rows.every((r) => r.description.length > 0)).toBe(true);
    const text = helpText('1.2.3');
    expect(text).toContain('1.2.3');
    for (const r of rows) expect(text).toMatch(new RegExp(`^ {2}${r.name} +${r.default.replace(/[()./]/g, '\\$&')} `, 'm'));
  });
});
