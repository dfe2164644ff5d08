/** Roundtable on the EVM (issue 12): key checks, signature encodings, and the contracts' artifacts. */
export * from './frost-evm.js';
