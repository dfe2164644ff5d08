import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  /** False when the server refused CREATE DATABASE and the run uses DATABASE_URL itself. */
  fresh: boolean;
  /** Drops the fresh database (nothing when it is DATABASE_URL itself). */
  drop(): Promise<void>;
}

/**
 * A fresh database `<name>_bench_<hex>` beside DATABASE_URL's on the same server (as
 * libs/persistence/src/testing/test-database.ts does for tests), so that each run starts from the
 * migrations with empty tables and its statistics counters are its own. When the server refuses (no
 * CREATEDB right), the run falls back to DATABASE_URL itself: the cluster's keys and requests are new anyway.
 */
export async function createBenchDatabase(serverUrl: string, onFallback: (reason: string) => void): Promise<BenchDatabase> {
  const base = new URL(serverUrl);
  const name = `${decodeURIComponent(base.pathname.replace(/^\//, '')) || 'postgres'}_bench_${randomBytes(4).toString('hex')}`;
  try {
    await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${quoteIdentifier(name)}`));
  } catch (e) {
    onFallback((e as Error).message);
    return { url: serverUrl, fresh: false, drop: async () => {} };
  }
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    url: url.toString(),
    fresh: true,
    drop: () => withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
  };
}

export interface DatabaseCounters {
  /** Committed transactions in this database (pg_stat_database.xact_commit). */
  commits: number;
  /** Rows ever inserted into relayed_frames: frames handed from one instance to another. */
  relayedFrames: number;
}

/**
 * The database's cumulative statistics. Backends flush them about once a second when idle, so a reading
 * taken right after a run may miss its last second: callers wait a little first.
 */
export async function databaseCounters(url: string): Promise<DatabaseCounters | null> {
  try {
    return await withClient(url, async (c) => {
      const commits = await c.query<{ n: string }>('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
      const relayed = await c.query<{ n: string }>("SELECT n_tup_ins::text AS n FROM pg_stat_user_tables WHERE relname = 'relayed_frames'");
      return { commits: Number(commits.rows[0]?.n ?? NaN), relayedFrames: Number(relayed.rows[0]?.n ?? 0) };
    });
  } catch {
    return null;
  }
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
