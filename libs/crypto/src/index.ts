export * from './ceremony-transcripts.js';
export * from './dkg.js';
export * from './encoding.js';
export * from './frost.js';
export * from './hashing.js';
export * from './identifiers.js';
export * from './identity.js';
export * from './suites.js';
export type { Nonces } from '@noble/curves/abstract/frost.js';
