export * from './data-source.js';
export * from './entities/index.js';
export * from './migration-runner.js';
export * from './persistence.module.js';
export * from './pglite-leased-pool.js';
export * from './probe-database.js';
export { repositoriesFor } from './repositories/index.js';
export * from './typeorm-store.js';
export * from './notification-listener.js';
