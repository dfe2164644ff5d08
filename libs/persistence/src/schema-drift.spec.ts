import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';
import { openMigratedDataSource } from './testing/open-data-source.js';

describe('entities and migrations', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = await openMigratedDataSource(db);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('agree: TypeORM would change nothing in the migrated schema', async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('(the check does see drift)', async () => {
    await dataSource.query('DROP INDEX commitments_attempt_id_idx');
    await dataSource.query('ALTER TABLE nodes ALTER COLUMN label DROP NOT NULL');
    try {
      const pending = (await dataSource.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query).join('\n');
      expect(pending).toContain('commitments_attempt_id_idx');
      expect(pending).toMatch(/"label"/);
    } finally {
      await dataSource.query('CREATE INDEX commitments_attempt_id_idx ON commitments (attempt_id)');
      await dataSource.query('ALTER TABLE nodes ALTER COLUMN label SET NOT NULL');
    }
  });
});
