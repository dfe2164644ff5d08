import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import type { Repositories, Store, TransactionOptions } from '#domain';
import { PGliteLeasedPool } from './pglite-leased-pool.js';
import { repositoriesFor } from './repositories/index.js';
import { databaseErrorOf } from './repositories/repository-support.js';

/** SQLSTATEs of a transaction PostgreSQL aborted to break a deadlock or keep transactions serializable. */
const TRANSACTION_CONFLICTS = new Set(['40P01', '40001']);

/** Thrown when a transaction's callback reaches for `store.read`, `ping` or a nested transaction. */
export class TransactionMisuseError extends Error {
  constructor(what: string) {
    super(`${what} inside a store.transaction callback: use only the repositories the callback is given`);
    this.name = 'TransactionMisuseError';
  }
}

/**
 * The Store port over a TypeORM DataSource.
 *
 * A transaction's callback must use only the repositories it is given. On the embedded database
 * (PGlite, one session leased to one transaction at a time) `store.read` or a nested
 * `store.transaction` from inside a callback would wait forever for the session the callback holds;
 * on PostgreSQL it would silently work outside the transaction. Both are refused with
 * TransactionMisuseError while the callback's transaction is open.
 */
export class TypeOrmStore implements Store {
  readonly read: Repositories;
  private readonly openTransaction = new AsyncLocalStorage<{ open: boolean }>();

  constructor(private readonly dataSource: DataSource) {
    this.read = guarded(repositoriesFor(dataSource.manager), () => this.misuse('store.read'));
  }

  async transaction<T>(work: (tx: Repositories) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const misuse = this.misuse('store.transaction');
    if (misuse) throw misuse;
    for (let retriesLeft = options.retries ?? 0; ; retriesLeft--) {
      const scope = { open: true };
      try {
        return await this.openTransaction.run(scope, () => this.dataSource.transaction((manager) => work(repositoriesFor(manager))));
      } catch (error) {
        if (retriesLeft > 0 && TRANSACTION_CONFLICTS.has(databaseErrorOf(error).code ?? '')) continue;
        throw error;
      } finally {
        // Work the callback left running may use the store once the transaction is over.
        scope.open = false;
      }
    }
  }

  /**
   * Runs `work` while holding the named lock across every process on the database: a session-level
   * advisory lock (keyed by a 64-bit hash of the name) on a connection of its own, held until `work`
   * settles. On the embedded database only one process can be open at all, so it just runs `work`.
   */
  async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const misuse = this.misuse('store.exclusive');
    if (misuse) throw misuse;
    if (this.embedded) return work();
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [name]);
      try {
        return await work();
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name]);
      }
    } finally {
      await runner.release();
    }
  }

  /** PGlite (one process only, one session leased at a time) rather than a PostgreSQL server. */
  private get embedded(): boolean {
    return (this.dataSource.options as { driver?: { Pool?: unknown } }).driver?.Pool === PGliteLeasedPool;
  }

  async ping(): Promise<void> {
    const misuse = this.misuse('store.ping');
    if (misuse) throw misuse;
    await this.dataSource.query('SELECT 1');
  }

  /** The error to raise when called while a transaction callback is running, else null. */
  private misuse(what: string): TransactionMisuseError | null {
    return this.openTransaction.getStore()?.open ? new TransactionMisuseError(what) : null;
  }
}

/** Wraps each repository so that a method call is refused when `misuse` reports an error (all methods return promises). */
function guarded(repositories: Repositories, misuse: () => Error | null): Repositories {
  const wrap = <R extends object>(repository: R): R =>
    new Proxy(repository, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          const error = misuse();
          return error ? Promise.reject(error) : (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    nodes: wrap(repositories.nodes),
    keys: wrap(repositories.keys),
    requests: wrap(repositories.requests),
    attempts: wrap(repositories.attempts),
    commitments: wrap(repositories.commitments),
    shares: wrap(repositories.shares),
    audit: wrap(repositories.audit),
    ceremonies: wrap(repositories.ceremonies),
    principals: wrap(repositories.principals),
    decisions: wrap(repositories.decisions),
    grants: wrap(repositories.grants),
    webhooks: wrap(repositories.webhooks),
    consoleSessions: wrap(repositories.consoleSessions),
    cluster: wrap(repositories.cluster),
    requestState: wrap(repositories.requestState),
  };
}
