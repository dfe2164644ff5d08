/**
 * `#evm-local`: an in-process EVM and a real Safe in it, for the tests and the demo. Kept out of `#evm`
 * because it loads devDependencies (@ethereumjs, @safe-global/safe-contracts' artifacts), which the
 * production image prunes.
 */
export * from './local-evm.js';
export * from './safe-deployment.js';
