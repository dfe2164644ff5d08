export * from './signer-error.js';
export * from './logger.js';
export * from './coordinator-url.js';
export { Keystore } from './keystore/keystore.js';
export type { KeyShare } from './keystore/keystore-records.js';
export { NonceJournal, type JournalRecord, type JournalReplay } from './nonces/nonce-journal.js';
export { NonceStore, nonceIdOf, DEFAULT_NONCE_LIMITS, type NonceLimits, type NonceStatus } from './nonces/nonce-store.js';
export * from './policy/signing-policy.js';
export {
  SigningService,
  type ShareSource,
  type SigningServiceOptions,
  type ProposeOutcome,
  type PackageOutcome,
} from './signing/signing-service.js';
export * from './signer-node.js';
export * from './admin/init-keystore.js';
export * from './admin/dealer.js';
export * from './admin/coordinator-admin-client.js';
