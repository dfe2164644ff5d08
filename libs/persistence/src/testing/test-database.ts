import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestDatabase {
  /** Set when the tests run on PostgreSQL (DATABASE_URL); otherwise the embedded database is used. */
  databaseUrl?: string;
  /** A fresh directory for the embedded database (also created, unused, on PostgreSQL). */
  dataDir: string;
  /** Drops the database (or deletes the directory). */
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one test suite. With DATABASE_URL set (it must name a test database),
 * a new database `<name>_<random hex>` is created beside it on that server; without it, a temporary
 * directory for PGlite.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'roundtable-db-'));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { dataDir, drop: removeDir };

  const base = new URL(serverUrl);
  const baseName = decodeURIComponent(base.pathname.replace(/^\//, ''));
  if (!baseName.toLowerCase().includes('test')) {
    await removeDir();
    throw new Error(`refusing to run tests against database "${baseName}": DATABASE_URL must name a test database`);
  }
  const name = `${baseName}_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${quoteIdentifier(name)}`));

  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    databaseUrl: url.toString(),
    dataDir,
    drop: async () => {
      await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
      await removeDir();
    },
  };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;
