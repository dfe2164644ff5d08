export * from './bundle.js';
export * from './chain.js';
export * from './checkpoint.js';
export * from './cosignature.js';
export * from './merkle.js';
export * from './witness.js';
