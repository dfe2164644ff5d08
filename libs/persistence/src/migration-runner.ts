import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSource, QueryRunner } from 'typeorm';
import { sha256Hex } from '#crypto';
import { AdvisoryLock } from './advisory-locks.js';

export interface MigrationOptions {
  /** The folder of `NNNN_name.sql` files; defaults to `migrations/` at the repository root. */
  directory?: string;
  /** Told about each file as it is applied. */
  log?: (message: string) => void;
}

export interface MigrationResult {
  /** Versions applied by this run, in order (empty when the schema was up to date). */
  applied: string[];
}

interface MigrationFile {
  version: string;
  sql: string;
  checksum: string;
}

const FILE_NAME = /^(\d{4}_[a-z0-9_]+)\.sql$/;

/**
 * Applies the pending SQL migrations, each in its own transaction, on one connection that holds an
 * advisory lock for the whole run, so that coordinators starting together apply each file once.
 * Refuses to run when a file already applied has changed, or when the database has a migration this
 * build does not know (it is older than the schema).
 */
export async function runMigrations(dataSource: DataSource, options: MigrationOptions = {}): Promise<MigrationResult> {
  const files = await readMigrations(options.directory ?? findMigrationsDirectory());
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query(`SELECT pg_advisory_lock(${AdvisoryLock.migrations})`);
    try {
      return await applyPending(runner, files, options.log);
    } finally {
      await runner.query(`SELECT pg_advisory_unlock(${AdvisoryLock.migrations})`);
    }
  } finally {
    await runner.release();
  }
}

async function applyPending(runner: QueryRunner, files: MigrationFile[], log?: (message: string) => void): Promise<MigrationResult> {
  await runner.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version    text PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT now(),
       checksum   text NOT NULL
     )`,
  );
  const rows = (await runner.query('SELECT version, checksum FROM schema_migrations')) as { version: string; checksum: string }[];
  const appliedChecksums = new Map(rows.map((r) => [r.version, r.checksum]));

  const known = new Set(files.map((f) => f.version));
  const unknown = [...appliedChecksums.keys()].filter((v) => !known.has(v)).sort();
  if (unknown.length > 0) {
    throw new Error(`the database has migrations this build does not know: ${unknown.join(', ')}`);
  }
  for (const file of files) {
    const checksum = appliedChecksums.get(file.version);
    if (checksum !== undefined && checksum !== file.checksum) {
      throw new Error(`migration ${file.version} has changed since it was applied (checksum ${checksum}, file ${file.checksum})`);
    }
  }

  const applied: string[] = [];
  for (const file of files.filter((f) => !appliedChecksums.has(f.version))) {
    await runner.startTransaction();
    try {
      await runner.query(file.sql);
      await runner.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [file.version, file.checksum]);
      await runner.commitTransaction();
    } catch (error) {
      await runner.rollbackTransaction();
      throw new Error(`migration ${file.version} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    applied.push(file.version);
    log?.(`applied migration ${file.version}`);
  }
  return { applied };
}

async function readMigrations(directory: string): Promise<MigrationFile[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const version = FILE_NAME.exec(name)?.[1];
      if (version === undefined) throw new Error(`migration file ${name} is not named NNNN_name.sql`);
      // Line endings normalised so that a checkout with CRLF does not count as an edit.
      const sql = (await readFile(join(directory, name), 'utf8')).replace(/\r\n/g, '\n');
      return { version, sql, checksum: sha256Hex(sql) };
    }),
  );
}

/**
 * The repository root's `migrations/`: the nearest ancestor of this file holding both `migrations/` and
 * `package.json`. Works from the sources (vitest) and from `dist/libs/persistence/src`.
 */
export function findMigrationsDirectory(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'migrations')) && existsSync(join(dir, 'package.json'))) return join(dir, 'migrations');
    if (dirname(dir) === dir) throw new Error(`no migrations/ folder above ${from}`);
  }
}
