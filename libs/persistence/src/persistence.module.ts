import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { STORE } from '#domain';
import { acquireStoreLock, restrictTreeToOwner, type StoreLockError } from '#store-lock';
import { createDataSource, embeddedDataDir, prepareDataDir, type DatabaseOptions } from './data-source.js';
import { runMigrations } from './migration-runner.js';
import { TypeOrmStore } from './typeorm-store.js';

export interface PersistenceOptions extends DatabaseOptions {
  /** Overrides where the migration files are found (defaults to the repository's `migrations/`). */
  migrationsDir?: string;
  /**
   * Called if the embedded database's directory lock is lost while the database is open: another
   * process may be writing the directory. The default writes one line to stderr and exits the
   * process at once (exit 1), before it writes another byte; a restart recovers as after a crash.
   */
  onLockLost?: (error: StoreLockError) => void;
}

/**
 * Connects, then brings the schema up to date before anything can use the database. On the embedded
 * database it first takes the directory's exclusive lock (one process per `DATA_DIR`: a second one
 * fails at once, naming the holder's pid), released once the DataSource is destroyed; and it keeps
 * the directory and every file in it its owner's only.
 */
export async function openDatabase(options: PersistenceOptions, log: (message: string) => void = () => undefined): Promise<DataSource> {
  const dataDir = embeddedDataDir(options);
  if (dataDir) prepareDataDir(dataDir);
  const lock = dataDir
    ? await acquireStoreLock(dataDir, { what: 'embedded database directory', onLost: options.onLockLost ?? exitOnLockLost })
    : undefined;
  // PGlite chmods some of its files wider than the umask allows: narrowed again once it has closed
  // (best effort: the directory itself stays 0700), then the directory is given back.
  const onClosed =
    dataDir && lock
      ? () =>
          restrictTreeToOwner(dataDir)
            .catch((e: unknown) => log(`could not narrow the modes in ${dataDir}: ${(e as Error).message}`))
            .finally(() => lock.release())
      : undefined;
  let dataSource: DataSource | undefined;
  try {
    dataSource = createDataSource(options, onClosed);
    await dataSource.initialize();
    await runMigrations(dataSource, { ...(options.migrationsDir !== undefined ? { directory: options.migrationsDir } : {}), log });
    if (dataDir) await restrictTreeToOwner(dataDir);
  } catch (error) {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await lock?.release();
    throw error;
  }
  return dataSource;
}

function exitOnLockLost(error: StoreLockError): void {
  process.stderr.write(`roundtable: ${error.message}; stopping at once, without another write\n`);
  process.exit(1);
}

@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** Provides STORE (the domain's Store port) over PostgreSQL or the embedded PGlite database. */
@Module({})
export class PersistenceModule {
  static forRoot(options: PersistenceOptions): DynamicModule {
    const logger = new Logger(PersistenceModule.name);
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        { provide: DataSource, useFactory: () => openDatabase(options, (message) => logger.log(message)) },
        { provide: STORE, useFactory: (dataSource: DataSource) => new TypeOrmStore(dataSource), inject: [DataSource] },
        DataSourceCloser,
      ],
      exports: [STORE],
    };
  }
}
