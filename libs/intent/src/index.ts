export * from './intent.js';
export * from './intent-error.js';
export * from './summary.js';
export * from './typed-data.js';
export * from './grant.js';
