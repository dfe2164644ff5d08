export * from './local-cluster.js';
export * from './processes.js';
export * from './fault-proxy.js';
export * from './fault-types.js';
