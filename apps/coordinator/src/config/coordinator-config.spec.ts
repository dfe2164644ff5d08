import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './coordinator-config.js';

describe('coordinator config', () => {
  it('applies defaults and freezes the result', () => {
    const config = loadConfig({ ADMIN_TOKEN: 'x'.repeat(16) });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, databaseUrl: undefined, coordinatorId: 'roundtable', attemptStaggerMs: 500 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ADMIN_TOKEN: 'x'.repeat(16), DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIN_TOKEN: 'short', PORT: '99999', DATABASE_URL: 'mysql://x', COORDINATOR_ID: 'has space' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['ADMIN_TOKEN', 'PORT', 'DATABASE_URL', 'COORDINATOR_ID']) expect(message).toContain(name);
  });

  it('refuses a default TTL above the maximum', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'x'.repeat(16), REQUEST_TTL_MS: '5000', MAX_REQUEST_TTL_MS: '2000' })).toThrow(/REQUEST_TTL_MS/);
  });
});
