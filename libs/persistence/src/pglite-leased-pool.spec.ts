import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PGliteLeasedPool, type PGliteLease } from './pglite-leased-pool.js';

/** Runs `work` on a fresh in-memory pool and always closes it (one embedded database per process). */
async function withPool(work: (pool: PGliteLeasedPool) => Promise<void>): Promise<void> {
  const pool = new PGliteLeasedPool({ dataDir: 'memory://' });
  try {
    await work(pool);
  } finally {
    await pool.end();
  }
}

const connectWithCallback = (pool: PGliteLeasedPool): Promise<{ lease: PGliteLease; release: (error?: unknown) => void }> =>
  new Promise((resolve, reject) => {
    pool.connect((error, lease, release) => (error || !lease ? reject(error ?? new Error('no lease')) : resolve({ lease, release })));
  });

describe('PGliteLeasedPool', () => {
  it('leases the session to one holder at a time, in request order', async () => {
    await withPool(async (pool) => {
      const order: string[] = [];
      const first = await pool.connect();
      const waiting = ['second', 'third'].map(async (name) => {
        const lease = await pool.connect();
        order.push(`${name} leased`);
        await delay(5);
        order.push(`${name} released`);
        lease.release();
      });
      await delay(20);
      expect(order).toEqual([]);
      order.push('first released');
      first.release();
      await Promise.all(waiting);
      expect(order).toEqual(['first released', 'second leased', 'second released', 'third leased', 'third released']);
    });
  });

  it("serves TypeORM's callback forms: connect(cb) with its release callback, and query(text, cb)", async () => {
    await withPool(async (pool) => {
      const { lease, release } = await connectWithCallback(pool);
      const rows = await new Promise<unknown>((resolve, reject) => {
        lease.query('SELECT 40 + 2 AS answer', (error, result) => (error ? reject(error) : resolve(result?.rows)));
      });
      expect(rows).toEqual([{ answer: 42 }]);
      const failure = await new Promise<Error | null>((resolve) => lease.query('SELECT * FROM nowhere', [], (error) => resolve(error)));
      expect(failure?.message).toMatch(/relation "nowhere" does not exist/);
      release();
      // The release callback freed the session for the next holder.
      const next = await pool.connect();
      expect((await next.query('SELECT $1::int AS n', [7])).rows).toEqual([{ n: 7 }]);
      next.release();
    });
  });

  it('refuses queries on a released lease and ignores a second release', async () => {
    await withPool(async (pool) => {
      const lease = await pool.connect();
      lease.release();
      lease.release();
      await expect(lease.query('SELECT 1')).rejects.toThrow(/released/);
      const next = await pool.connect();
      next.release();
    });
  });

  it('rolls back a transaction left open by a released holder before the next lease', async () => {
    await withPool(async (pool) => {
      const careless = await pool.connect();
      await careless.query('BEGIN');
      await careless.query('CREATE TABLE abandoned (id integer)');
      careless.release();
      const next = await pool.connect();
      expect((await next.query(`SELECT to_regclass('abandoned') AS t`)).rows).toEqual([{ t: null }]);
      next.release();
    });
  });

  it('runs pool.query on a brief lease, waiting for the current holder', async () => {
    await withPool(async (pool) => {
      await pool.query('CREATE TABLE t (id integer)');
      const holder = await pool.connect();
      await holder.query('BEGIN');
      await holder.query('INSERT INTO t VALUES (1)');
      const outside = pool.query('SELECT count(*)::int AS n FROM t');
      await delay(20);
      await holder.query('ROLLBACK');
      holder.release();
      // Had it run inside the holder's transaction, it would have counted the uncommitted row.
      expect((await outside).rows).toEqual([{ n: 0 }]);
      const viaCallback = await new Promise<unknown>((resolve, reject) => {
        pool.query('SELECT 1 AS one', (error, result) => (error ? reject(error) : resolve(result?.rows)));
      });
      expect(viaCallback).toEqual([{ one: 1 }]);
    });
  });

  it('on end, refuses queued and later leases, waits for the holder, then closes', async () => {
    const pool = new PGliteLeasedPool({ dataDir: 'memory://' });
    const holder = await pool.connect();
    const queued = pool.connect();
    const ended = new Promise<Error | null>((resolve) => pool.end(resolve));
    await expect(queued).rejects.toThrow(/closing/);
    await expect(pool.connect()).rejects.toThrow(/closed/);
    let closed = false;
    void ended.then(() => (closed = true));
    await delay(20);
    expect(closed).toBe(false);
    holder.release();
    expect(await ended).toBeNull();
    await pool.end();
  });

  it('gives way to a new pool when PGlite cannot start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roundtable-broken-'));
    const notADirectory = join(dir, 'file');
    await writeFile(notADirectory, 'not a database');
    try {
      const broken = new PGliteLeasedPool({ dataDir: notADirectory });
      await expect(broken.connect()).rejects.toThrow();
      await withPool(async (pool) => {
        const lease = await pool.connect();
        lease.release();
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('allows one open embedded database per process', async () => {
    const pool = new PGliteLeasedPool({ dataDir: 'memory://' });
    expect(() => new PGliteLeasedPool({ dataDir: 'memory://' })).toThrow(/already open/);
    await pool.end();
    const again = new PGliteLeasedPool({ dataDir: 'memory://' });
    await again.end();
  });
});
