import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './testing/test-database.js';
import { createDataSource } from './data-source.js';
import { findMigrationsDirectory, runMigrations } from './migration-runner.js';

const onPostgres = Boolean(process.env.DATABASE_URL);
/** Every migration of the repository, in order, as the runner names them. */
const ALL = (await readdir(findMigrationsDirectory())).filter((f) => f.endsWith('.sql')).sort().map((f) => f.slice(0, -'.sql'.length));

describe('runMigrations', () => {
  it('applies every migration once, then nothing', async () => {
    const db = await createTestDatabase();
    const dataSource = createDataSource(db);
    await dataSource.initialize();
    try {
      const first = await runMigrations(dataSource);
      expect(first.applied).toEqual(ALL);
      expect(ALL.slice(0, 2)).toEqual(['0001_init', '0002_ceremonies']);
      const tables: { table_name: string }[] = await dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        'audit_checkpoints',
        'audit_cosignatures',
        'audit_log',
        'audit_witness_status',
        'ceremonies',
        'ceremony_results',
        'ceremony_round2',
        'commitments',
        'console_sessions',
        'coordinator_instances',
        'grant_decisions',
        'grant_nonces',
        'grants',
        'key_members',
        'keys',
        'node_presence',
        'nodes',
        'nonce_elements',
        'principals',
        'relayed_frames',
        'request_asks',
        'request_decisions',
        'schema_migrations',
        'signature_shares',
        'signing_attempts',
        'signing_requests',
        'webhook_deliveries',
        'webhooks',
      ]);
      expect((await runMigrations(dataSource)).applied).toEqual([]);
      const recorded: { version: string; checksum: string }[] = await dataSource.query('SELECT version, checksum FROM schema_migrations');
      expect(recorded).toHaveLength(ALL.length);
      expect(recorded[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await dataSource.destroy();
      await db.drop();
    }
  });

  it('lets concurrent runs on one DataSource apply each file once', async () => {
    const db = await createTestDatabase();
    const dataSource = createDataSource(db);
    await dataSource.initialize();
    try {
      const results = await Promise.all([runMigrations(dataSource), runMigrations(dataSource), runMigrations(dataSource)]);
      expect(results.flatMap((r) => r.applied)).toEqual(ALL);
    } finally {
      await dataSource.destroy();
      await db.drop();
    }
  });

  it.runIf(onPostgres)('lets coordinators on separate connection pools start together (advisory lock)', async () => {
    const db = await createTestDatabase();
    const sources = [createDataSource(db), createDataSource(db), createDataSource(db)];
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      const results = await Promise.all(sources.map((s) => runMigrations(s)));
      expect(results.flatMap((r) => r.applied)).toEqual(ALL);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
      await db.drop();
    }
  });

  it('refuses to start when an applied migration has changed, or is unknown to this build', async () => {
    const db = await createTestDatabase();
    const edited = await mkdtemp(join(tmpdir(), 'roundtable-migrations-'));
    const dataSource = createDataSource(db);
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
      await cp(findMigrationsDirectory(), edited, { recursive: true });
      const file = join(edited, '0001_init.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- an edit after release\n`);
      await expect(runMigrations(dataSource, { directory: edited })).rejects.toThrow(/0001_init has changed since it was applied/);

      await rm(file);
      await expect(runMigrations(dataSource, { directory: edited })).rejects.toThrow(/does not know: 0001_init/);

      // The lock was released on failure: a correct run still goes through.
      expect((await runMigrations(dataSource)).applied).toEqual([]);
    } finally {
      await dataSource.destroy();
      await rm(edited, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('rolls back a failing migration and records nothing', async () => {
    const db = await createTestDatabase();
    const migrations = await mkdtemp(join(tmpdir(), 'roundtable-migrations-'));
    const dataSource = createDataSource(db);
    await dataSource.initialize();
    try {
      await writeFile(join(migrations, '0001_first.sql'), 'CREATE TABLE first_table (id integer PRIMARY KEY);');
      await writeFile(join(migrations, '0002_broken.sql'), 'CREATE TABLE half_done (id integer);\nSELECT no_such_function();');
      await expect(runMigrations(dataSource, { directory: migrations })).rejects.toThrow(/migration 0002_broken failed/);
      const versions: { version: string }[] = await dataSource.query('SELECT version FROM schema_migrations');
      expect(versions.map((v) => v.version)).toEqual(['0001_first']);
      const halfDone: unknown[] = await dataSource.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
      expect(halfDone).toEqual([]);
    } finally {
      await dataSource.destroy();
      await rm(migrations, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('finds the repository migrations/ from a nested build folder', () => {
    const root = findMigrationsDirectory();
    expect(findMigrationsDirectory(join(root, '..', 'dist', 'libs', 'persistence', 'src'))).toBe(root);
  });
});
