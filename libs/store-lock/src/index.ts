export * from './store-lock.js';
export * from './owner-only.js';
