export * from './encoding.js';
export * from './frost.js';
export * from './hashing.js';
export * from './identity.js';
export * from './reference-verify.js';
export * from './suites.js';
export type { Nonces } from '@noble/curves/abstract/frost.js';
