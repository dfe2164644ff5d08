import { EventEmitter } from 'node:events';
import { getPGliteInstance, PGliteDriver } from 'typeorm-pglite';
import { FifoMutex } from './fifo-mutex.js';

/** typeorm-pglite's pool: every "connection" it hands out is the one process-wide PGlite session. */
type SharedSessionPool = InstanceType<PGliteDriver['driver']['Pool']>;
type PGlite = Awaited<ReturnType<typeof getPGliteInstance>>;
export type PGliteQueryResult = Awaited<ReturnType<SharedSessionPool['query']>>;
type QueryCallback = (error: Error | null, result?: PGliteQueryResult) => void;
type ReleaseCallback = (error?: unknown) => void;
type ConnectCallback = (error: Error | null, client: PGliteLease | null, release: ReleaseCallback) => void;

export interface PGliteLeasedPoolConfig {
  /** PGlite data directory (a path, or `memory://`). */
  dataDir: string;
  /** Runs once PGlite has been closed (or failed to start): gives back what guards the directory. */
  onClosed?: () => Promise<void>;
}

/**
 * A node-postgres-shaped pool over the embedded PGlite database, for TypeORM's postgres driver
 * (`driver: { Pool: PGliteLeasedPool }`, `extra: { dataDir }`).
 *
 * PGlite is a single session. typeorm-pglite's own pool hands that session to every query runner at
 * once, so two concurrent transactions interleave their BEGIN/COMMIT on it and corrupt each other.
 * This pool leases the session instead: `connect` waits (FIFO) until the previous lease is released,
 * so a TypeORM query runner, and hence a transaction from BEGIN to COMMIT, has it to itself.
 * The consequence: code holding a lease must not wait for another lease (a transaction callback that
 * queries outside its transaction waits forever).
 *
 * typeorm-pglite keeps one PGlite instance per process, so only one pool may be open at a time.
 */
export class PGliteLeasedPool extends EventEmitter {
  private static openPool: PGliteLeasedPool | null = null;

  private readonly session: SharedSessionPool;
  private readonly mutex = new FifoMutex();
  private closing: Promise<void> | null = null;
  private onClosed: (() => Promise<void>) | undefined;

  constructor(config: PGliteLeasedPoolConfig) {
    super();
    this.onClosed = config.onClosed;
    if (PGliteLeasedPool.openPool) {
      throw new Error('an embedded database is already open in this process; destroy its DataSource first');
    }
    // The driver's constructor records the PGlite options; the instance starts on first use.
    const { Pool } = new PGliteDriver({ dataDir: config.dataDir }).driver;
    this.session = new Pool();
    PGliteLeasedPool.openPool = this;
  }

  /** Leases the session: node-postgres's callback form (what TypeORM uses) or its promise form. */
  connect(): Promise<PGliteLease>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PGliteLease> | void {
    const leased = this.lease();
    if (!callback) return leased;
    leased.then(
      (lease) => callback(null, lease, (error) => lease.release(error)),
      (error: unknown) => callback(toError(error), null, () => undefined),
    );
  }

  /** One statement on a briefly leased session, like node-postgres's `Pool#query`. */
  query(text: string, values?: unknown[]): Promise<PGliteQueryResult>;
  query(text: string, callback: QueryCallback): void;
  query(text: string, values: unknown[] | undefined, callback: QueryCallback): void;
  query(text: string, valuesOrCallback?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<PGliteQueryResult> | void {
    const [values, done] = typeof valuesOrCallback === 'function' ? [undefined, valuesOrCallback] : [valuesOrCallback, callback];
    const result = this.lease().then(async (lease) => {
      try {
        return await lease.query(text, values);
      } finally {
        lease.release();
      }
    });
    return settle(result, done);
  }

  /** Refuses queued leases, waits for the current one to be released, then closes PGlite. */
  end(): Promise<void>;
  end(callback: (error: Error | null) => void): void;
  end(callback?: (error: Error | null) => void): Promise<void> | void {
    this.closing ??= this.close();
    if (!callback) return this.closing;
    this.closing.then(
      () => callback(null),
      (error: unknown) => callback(toError(error)),
    );
  }

  private async lease(): Promise<PGliteLease> {
    if (this.closing) throw new Error('the embedded database pool has been closed');
    await this.mutex.acquire();
    let database: PGlite;
    try {
      database = await getPGliteInstance();
    } catch (error) {
      // PGlite could not start (bad data directory, ...): this pool is dead, let a new one try.
      this.closing = this.closed();
      this.mutex.refuseWaiters(new Error('the embedded database could not start'));
      if (PGliteLeasedPool.openPool === this) PGliteLeasedPool.openPool = null;
      await this.closing;
      throw error;
    }
    return new PGliteLease(this.session, () => void this.endLease(database));
  }

  private async endLease(database: PGlite): Promise<void> {
    try {
      // A runner released inside a transaction (a failed ROLLBACK, TypeORM force-releasing at shutdown)
      // must not pass its open transaction on to the next lease.
      if (!database.closed && database.isInTransaction()) await database.exec('ROLLBACK');
    } catch (error) {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    } finally {
      this.mutex.release();
    }
  }

  private async close(): Promise<void> {
    this.mutex.refuseWaiters(new Error('the embedded database pool is closing'));
    await this.mutex.acquire();
    try {
      await new Promise<void>((resolve, reject) => {
        this.session.end((error: unknown) => (error ? reject(toError(error)) : resolve()));
      });
    } finally {
      PGliteLeasedPool.openPool = null;
      await this.closed();
    }
  }

  /** Runs `onClosed` once. */
  private async closed(): Promise<void> {
    const onClosed = this.onClosed;
    this.onClosed = undefined;
    await onClosed?.();
  }
}

/** Exclusive use of the PGlite session until `release`; shaped like a node-postgres client. */
export class PGliteLease extends EventEmitter {
  private released = false;

  constructor(
    private readonly session: SharedSessionPool,
    private readonly onRelease: () => void,
  ) {
    super();
  }

  query(text: string, values?: unknown[]): Promise<PGliteQueryResult>;
  query(text: string, callback: QueryCallback): void;
  query(text: string, values: unknown[] | undefined, callback: QueryCallback): void;
  query(text: string, valuesOrCallback?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<PGliteQueryResult> | void {
    const [values, done] = typeof valuesOrCallback === 'function' ? [undefined, valuesOrCallback] : [valuesOrCallback, callback];
    const result = this.released
      ? Promise.reject(new Error('query on a released PGlite lease'))
      : this.session.query(text, values);
    return settle(result, done);
  }

  /** Returns the session to the pool; later calls are ignored. */
  release(_error?: unknown): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}

/** Promise form when there is no callback; otherwise reports to the callback and returns nothing. */
function settle(result: Promise<PGliteQueryResult>, callback: QueryCallback | undefined): Promise<PGliteQueryResult> | void {
  if (!callback) return result;
  result.then(
    (value) => callback(null, value),
    (error: unknown) => callback(toError(error)),
  );
}

const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
