import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { findMigrationsDirectory, runMigrations } from './migration-runner.js';
import { createTestDatabase, type TestDatabase } from './testing/test-database.js';
import { TypeOrmStore } from './typeorm-store.js';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/**
 * Migration 0005 on a database that has requests made before intents: each gets an intent rebuilt from
 * its message (no intent hash, proposer admin), and each one still open fails with INTENT_REQUIRED, its
 * running attempt aborted and its unused commitments burned.
 */
describe('migration 0005_intents on requests made before intents', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let before: string;
  const keyId = randomUUID();
  const nodeId = randomUUID();
  const ids = { openText: randomUUID(), doneHex: randomUUID(), nulText: randomUUID(), attempt: randomUUID(), commitment: randomUUID() };

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = createDataSource(db);
    await dataSource.initialize();
    // The schema as it was before 0005: the repository's migrations up to 0004, applied from a copy.
    before = await mkdtemp(join(tmpdir(), 'roundtable-migrations-'));
    await cp(findMigrationsDirectory(), before, { recursive: true });
    for (const f of await readdir(before)) if (f >= '0005') await rm(join(before, f));
    await runMigrations(dataSource, { directory: before });

    await dataSource.query(`INSERT INTO nodes (id, label, public_key, status, created_at) VALUES ($1, 'n1', $2, 'active', now())`, [nodeId, 'ab'.repeat(32)]);
    await dataSource.query(
      `INSERT INTO keys (id, suite, threshold, max_signers, group_public_key, public_package, status, origin, created_at)
       VALUES ($1, 'ed25519', 1, 1, $2, '{}', 'active', 'dealer', now())`,
      [keyId, 'cd'.repeat(32)],
    );
    const insert = (id: string, message: string, encoding: string, status: string, deadline: string) =>
      dataSource.query(
        `INSERT INTO signing_requests (id, key_id, message, message_encoding, description, status, deadline, request_hash,
           created_by, created_at, updated_at, culprits, attempt_count, blameless_refusals)
         VALUES ($1, $2, $3, $4, 'legacy', $5, $6, $7, 'admin-token', now(), now(), '[]', 0, '{}')`,
        [id, keyId, message, encoding, status, deadline, 'ee'.repeat(32)],
      );
    await insert(ids.openText, hex('pay 🍕 to alice'), 'utf8', 'committing', '2030-01-02T03:04:05.678Z');
    await insert(ids.doneHex, 'deadbeef', 'hex', 'completed', '2025-01-01T00:00:00.000Z');
    await insert(ids.nulText, hex('a\u0000b'), 'utf8', 'expired', '2025-01-01T00:00:00.000Z');
    await dataSource.query(
      `INSERT INTO signing_attempts (id, request_id, seq, status, participants, commitments, deadline, started_at)
       VALUES ($1, $2, 1, 'signing', '[]', '[]', now(), now())`,
      [ids.attempt, ids.openText],
    );
    await dataSource.query(
      `INSERT INTO commitments (id, key_id, request_id, node_id, identifier, hiding, binding, status, received_at)
       VALUES ($1, $2, $3, $4, '01', '02', '03', 'ready', now())`,
      [ids.commitment, keyId, ids.openText, nodeId],
    );

    expect((await runMigrations(dataSource)).applied).toContain('0005_intents');
  });
  afterAll(async () => {
    await dataSource?.destroy();
    if (before) await rm(before, { recursive: true, force: true });
    await db?.drop();
  });

  it('rebuilds a text intent for a utf8 request, proposed by admin, with no intent hash', async () => {
    const r = await new TypeOrmStore(dataSource).read.requests.findById(ids.openText);
    expect(r).toMatchObject({ intentHash: null, proposer: 'admin', messageEncoding: 'utf8', message: hex('pay 🍕 to alice') });
    expect(r!.intent).toEqual({
      version: 1,
      keyId,
      payload: { kind: 'text', text: 'pay 🍕 to alice' },
      chainId: null,
      sequence: null,
      deadline: Date.parse('2030-01-02T03:04:05.678Z'),
      proposer: 'admin',
      description: 'legacy',
      note: '',
    });
  });

  it('fails every request still open with INTENT_REQUIRED, aborting its attempt and burning its commitments', async () => {
    const r = await new TypeOrmStore(dataSource).read.requests.findById(ids.openText);
    expect(r).toMatchObject({ status: 'failed', failureCode: 'INTENT_REQUIRED' });
    expect(r!.failureReason).toMatch(/intent/);
    expect(r!.completedAt).toBeInstanceOf(Date);
    const [attempt] = await dataSource.query<{ status: string; ended_at: Date | null }[]>('SELECT status, ended_at FROM signing_attempts WHERE id = $1', [ids.attempt]);
    expect(attempt!.status).toBe('aborted');
    expect(attempt!.ended_at).not.toBeNull();
    const [commitment] = await dataSource.query<{ status: string }[]>('SELECT status FROM commitments WHERE id = $1', [ids.commitment]);
    expect(commitment!.status).toBe('burned');
  });

  it('keeps finished requests as they were, with a bytes intent for hex (and for text jsonb cannot hold)', async () => {
    const store = new TypeOrmStore(dataSource);
    const done = await store.read.requests.findById(ids.doneHex);
    expect(done).toMatchObject({ status: 'completed', failureCode: null, intentHash: null, messageEncoding: 'hex' });
    expect(done!.intent.payload).toEqual({ kind: 'bytes', hex: 'deadbeef' });
    const nul = await store.read.requests.findById(ids.nulText);
    expect(nul).toMatchObject({ status: 'expired', messageEncoding: 'hex', message: hex('a\u0000b') });
    expect(nul!.intent.payload).toEqual({ kind: 'bytes', hex: hex('a\u0000b') });
    const kinds: { payload_kind: string }[] = await dataSource.query('SELECT payload_kind FROM signing_requests ORDER BY payload_kind');
    expect(kinds.map((k) => k.payload_kind)).toEqual(['bytes', 'bytes', 'text']);
  });
});
