import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { persistenceEntities } from './entities/index.js';
import { PGliteLeasedPool, type PGliteLeasedPoolConfig } from './pglite-leased-pool.js';

export interface DatabaseOptions {
  /** A PostgreSQL URL. Without it the coordinator runs on an embedded PostgreSQL (PGlite). */
  databaseUrl?: string;
  /** The embedded database's directory (created if missing), or `memory://` for a throwaway one. */
  dataDir: string;
}

/**
 * A TypeORM DataSource over PostgreSQL: the `pg` driver when a URL is given, else PGlite through the
 * leased pool. The schema comes from `migrations/` (see runMigrations), never from `synchronize`.
 */
export function createDataSource(options: DatabaseOptions): DataSource {
  const common = {
    type: 'postgres',
    entities: persistenceEntities,
    synchronize: false,
    migrationsRun: false,
    // No uuid-ossp & co: the application chooses its ids.
    installExtensions: false,
    logging: false,
  } as const;

  if (options.databaseUrl) {
    return new DataSource({ ...common, url: options.databaseUrl, applicationName: 'roundtable' });
  }

  const dataDir = isPGliteUrl(options.dataDir) ? options.dataDir : resolve(options.dataDir);
  if (!isPGliteUrl(dataDir)) mkdirSync(dataDir, { recursive: true });
  const pool: PGliteLeasedPoolConfig = { dataDir };
  // TypeORM builds `new driver.Pool({ ...connectionOptions, ...extra })`.
  return new DataSource({ ...common, driver: { Pool: PGliteLeasedPool }, extra: pool });
}

/** PGlite's non-directory stores: `memory://`, `idb://...`. */
const isPGliteUrl = (dataDir: string): boolean => /^[a-z]+:\/\//.test(dataDir);
