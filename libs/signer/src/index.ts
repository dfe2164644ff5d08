export * from './signer-error.js';
export * from './logger.js';
export * from './coordinator-url.js';
export { Keystore, type ImportedShare, type InboxImport, type KeystoreInitOptions } from './keystore/keystore.js';
export { lockKeystore, withKeystoreLock, type KeystoreLock, type KeystoreLockOptions } from './keystore/keystore-lock.js';
export { KDF_COSTS, type KdfCost, type KdfCostName } from './keystore/passphrase-key.js';
export { sealShareToIdentity } from './keystore/sealed-share.js';
export type { KeyShare } from './keystore/keystore-records.js';
export {
  NonceJournal,
  type JournalCipher,
  type JournalLocation,
  type JournalRecord,
  type JournalReplay,
} from './nonces/nonce-journal.js';
export { NonceStore, nonceIdOf, DEFAULT_NONCE_LIMITS, type NonceLimits, type NonceStatus } from './nonces/nonce-store.js';
export {
  SigningService,
  type ShareSource,
  type DecisionSigner,
  type SigningServiceOptions,
  type ProposeOutcome,
  type PackageOutcome,
} from './signing/signing-service.js';
export * from './signer-node.js';
export type * from './policy/policy-types.js';
export { loadNodePolicy, type LoadedNodePolicy, type NodePolicyOptions } from './policy/node-policy.js';
export { policyFromFlags, type ApprovalFlags, type PolicyDocumentInput } from './policy/policy-flags.js';
export * from './approvals/approvals-protocol.js';
export { ApprovalQueue, approvalItem, approvalDetail, approvalState, type ApprovalRecordStore } from './approvals/approval-queue.js';
export { callApprovals } from './approvals/approvals-client.js';
export * from './grants/grant-protocol.js';
export { GrantStore, grantItem, grantDetail, grantState, describeGrantee } from './grants/grant-store.js';
export { NodeGrants, type NodeGrantsOptions, type GrantAssessment, type GrantCommit, type IdentitySigner } from './grants/node-grants.js';
export type { GrantEvents } from './grants/grant-frames.js';
export { approvalsSocketPath, MAX_SOCKET_PATH_BYTES } from './approvals/socket-path.js';
export {
  CeremonyParticipant,
  ROUND2_SEALING_INFO,
  type CeremonyKeystore,
  type CeremonyPolicy,
  type CeremonyPhase,
  type CeremonyResult,
} from './ceremonies/ceremony-participant.js';
export { CeremonyAbortError, type CeremonyAbortCode } from './ceremonies/ceremony-abort.js';
export { judgeCompletedClose, type CloseVerdict, type HeldCeremony } from './ceremonies/ceremony-close.js';
export { NodeCeremonies, type CeremonyEvents } from './ceremonies/node-ceremonies.js';
export * from './admin/init-keystore.js';
export * from './admin/dealer.js';
export * from './admin/share-backup.js';
export * from './admin/coordinator-admin-client.js';
