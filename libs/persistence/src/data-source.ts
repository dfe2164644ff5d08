import { chmodSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { restrictUmask } from '#store-lock';
import { persistenceEntities } from './entities/index.js';
import { PGliteLeasedPool, type PGliteLeasedPoolConfig } from './pglite-leased-pool.js';

export interface DatabaseOptions {
  /** A PostgreSQL URL. Without it the coordinator runs on an embedded PostgreSQL (PGlite). */
  databaseUrl?: string;
  /** The embedded database's directory (created if missing), or `memory://` for a throwaway one. */
  dataDir: string;
}

/** The embedded database's directory (absolute), or undefined when there is none: a URL, or `memory://`. */
export function embeddedDataDir(options: DatabaseOptions): string | undefined {
  if (options.databaseUrl || isPGliteUrl(options.dataDir)) return undefined;
  return resolve(options.dataDir);
}

/**
 * Creates the embedded database's directory for this process's owner only: the umask narrowed to 077
 * first (PGlite creates its files through Node's fs), the directory 0700 even if it existed with a
 * wider mode. Files PGlite chmods wider itself are narrowed by restrictTreeToOwner (see openDatabase).
 */
export function prepareDataDir(dataDir: string): void {
  restrictUmask();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}

/**
 * A TypeORM DataSource over PostgreSQL: the `pg` driver when a URL is given, else PGlite through the
 * leased pool. The schema comes from `migrations/` (see runMigrations), never from `synchronize`.
 * `onEmbeddedClosed` runs once the embedded database has been closed (the DataSource destroyed).
 */
export function createDataSource(options: DatabaseOptions, onEmbeddedClosed?: () => Promise<void>): DataSource {
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
  if (!isPGliteUrl(dataDir)) prepareDataDir(dataDir);
  const pool: PGliteLeasedPoolConfig = { dataDir, ...(onEmbeddedClosed ? { onClosed: onEmbeddedClosed } : {}) };
  // TypeORM builds `new driver.Pool({ ...connectionOptions, ...extra })`.
  return new DataSource({ ...common, driver: { Pool: PGliteLeasedPool }, extra: pool });
}

/** PGlite's non-directory stores: `memory://`, `idb://...`. */
const isPGliteUrl = (dataDir: string): boolean => /^[a-z]+:\/\//.test(dataDir);
