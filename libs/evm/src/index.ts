/** Roundtable on the EVM (issue 12): key checks, signature encodings, and the contracts' artifacts. */
export * from './frost-evm.js';
export * from './evm-views.js';
export * from './artifacts.js';
export * from './safe-tx.js';
