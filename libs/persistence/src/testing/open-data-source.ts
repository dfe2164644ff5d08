import type { DataSource } from 'typeorm';
import { createDataSource, type DatabaseOptions } from '../data-source.js';
import { runMigrations } from '../migration-runner.js';

/** An initialised DataSource on the given test database, its schema migrated. */
export async function openMigratedDataSource(database: DatabaseOptions): Promise<DataSource> {
  const dataSource = createDataSource(database);
  await dataSource.initialize();
  await runMigrations(dataSource);
  return dataSource;
}
