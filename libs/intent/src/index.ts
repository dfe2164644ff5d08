export * from './intent.js';
export * from './intent-error.js';
export * from './summary.js';
export * from './typed-data.js';
export * from './grant.js';
export * from './typed-fields.js';
export * from './grant-scope.js';
export * from './agent-auth.js';
