export * from './local-cluster.js';
export * from './processes.js';
