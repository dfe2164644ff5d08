export * from './bootstrap.js';
export * from './config/coordinator-config.js';
