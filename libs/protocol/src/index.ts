export * from './auth.js';
export * from './close-codes.js';
export * from './codec.js';
export * from './error-codes.js';
export * from './frames.js';
export * from './limits.js';
export * from './suites.js';
