import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from './test-database.js';

describe('createTestDatabase', () => {
  const configured = process.env.DATABASE_URL;
  afterEach(() => {
    if (configured === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = configured;
  });

  it('refuses a DATABASE_URL whose database name does not say "test"', async () => {
    process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
    await expect(createTestDatabase()).rejects.toThrow(/refusing to run tests against database "postgres"/);
  });

  it('gives a fresh place and removes it on drop', async () => {
    const db = await createTestDatabase();
    expect(existsSync(db.dataDir)).toBe(true);
    if (configured) expect(new URL(db.databaseUrl!).pathname).toMatch(/^\/test\w*_[0-9a-f]{12}$/);
    else expect(db.databaseUrl).toBeUndefined();
    await db.drop();
    expect(existsSync(db.dataDir)).toBe(false);
  });
});
