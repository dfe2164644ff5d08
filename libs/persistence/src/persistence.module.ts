import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { STORE } from '#domain';
import { createDataSource, type DatabaseOptions } from './data-source.js';
import { runMigrations } from './migration-runner.js';
import { TypeOrmStore } from './typeorm-store.js';

export interface PersistenceOptions extends DatabaseOptions {
  /** Overrides where the migration files are found (defaults to the repository's `migrations/`). */
  migrationsDir?: string;
}

/** Connects, then brings the schema up to date before anything can use the database. */
export async function openDatabase(options: PersistenceOptions, log: (message: string) => void = () => undefined): Promise<DataSource> {
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource, { ...(options.migrationsDir !== undefined ? { directory: options.migrationsDir } : {}), log });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
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
