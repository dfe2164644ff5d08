import { readdir } from 'node:fs/promises';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE, type Store } from '#domain';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';
import { findMigrationsDirectory } from './migration-runner.js';
import { PersistenceModule } from './persistence.module.js';
import { aNode } from './testing/fixtures.js';

describe('PersistenceModule', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const start = () => Test.createTestingModule({ imports: [PersistenceModule.forRoot(db)] }).compile();

  it('provides a migrated STORE, closes the database on shutdown, and finds its data again on restart', async () => {
    const first = await start();
    const store = first.get<Store>(STORE);
    await store.ping();
    const node = aNode();
    await store.transaction((tx) => tx.nodes.insert(node));
    const dataSource = first.get(DataSource, { strict: false });
    await first.close();
    expect(dataSource.isInitialized).toBe(false);

    const second = await start();
    try {
      expect(await second.get<Store>(STORE).read.nodes.findById(node.id)).toEqual(node);
      const migrations: unknown[] = await second.get(DataSource, { strict: false }).query('SELECT version FROM schema_migrations ORDER BY version');
      expect(migrations).toEqual(
        (await readdir(findMigrationsDirectory())).filter((f) => f.endsWith('.sql')).sort().map((f) => ({ version: f.slice(0, -'.sql'.length) })),
      );
    } finally {
      await second.close();
    }
  });
});
