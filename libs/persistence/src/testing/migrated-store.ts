import type { DataSource } from 'typeorm';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { TypeOrmStore } from '../typeorm-store.js';
import { openMigratedDataSource } from './open-data-source.js';

export interface MigratedStore {
  readonly db: TestDatabase;
  readonly dataSource: DataSource;
  readonly store: TypeOrmStore;
}

/**
 * A fresh, migrated test database for the enclosing `describe`, dropped after it. The returned object's
 * fields are set once `beforeAll` has run.
 */
export function useMigratedStore(): MigratedStore {
  const ctx = {} as { db: TestDatabase; dataSource: DataSource; store: TypeOrmStore };
  beforeAll(async () => {
    ctx.db = await createTestDatabase();
    ctx.dataSource = await openMigratedDataSource(ctx.db);
    ctx.store = new TypeOrmStore(ctx.dataSource);
  });
  afterAll(async () => {
    await ctx.dataSource?.destroy();
    await ctx.db?.drop();
  });
  return ctx;
}
