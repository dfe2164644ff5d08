export * from './errors.js';
export * from './ports.js';
export * from './records.js';
