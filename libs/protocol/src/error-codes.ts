import { GRANT_REFUSALS } from './grant.js';

/**
 * Stable error codes. The same code travels in an `error` frame, in an HTTP problem body, and in a
 * request's failure reason; transports map them (see the coordinator's mappers) but never invent their own.
 */
export const ErrorCodes = [
  // framing
  'MALFORMED_FRAME',
  'UNSUPPORTED_VERSION',
  'UNEXPECTED_FRAME',
  // authentication and nodes
  'AUTH_FAILED',
  'AUTH_REQUIRED',
  'CHALLENGE_EXPIRED',
  'NODE_UNKNOWN',
  'NODE_REVOKED',
  'NODE_NOT_FOUND',
  'NODE_ALREADY_ENROLLED',
  'UNAUTHORIZED',
  // keys
  'KEY_NOT_FOUND',
  'KEY_RETIRED',
  'KEY_ALREADY_EXISTS',
  'INVALID_KEY_PACKAGE',
  'NOT_A_MEMBER',
  // requests and attempts
  'VALIDATION_FAILED',
  'IDEMPOTENCY_CONFLICT',
  'REQUEST_NOT_FOUND',
  'REQUEST_FINISHED',
  'REQUEST_EXPIRED',
  'ATTEMPT_NOT_FOUND',
  'ATTEMPT_FINISHED',
  'NOT_IN_SIGNER_SET',
  'NOT_PROPOSED',
  'REQUEST_CANCELLED',
  'REJECTED',
  'INVALID_PAYLOAD',
  'CHAIN_ID_REQUIRED',
  'CHAIN_ID_MISMATCH',
  'DEADLINE_PASSED',
  'INTENT_ALREADY_SIGNED',
  'SEQUENCE_USED',
  'DECISION_INVALID',
  'FORBIDDEN',
  /** A console call that changes state without the session's X-CSRF-Token (docs/protocol.md §11). */
  'CSRF_INVALID',
  'PRINCIPAL_NOT_FOUND',
  'PRINCIPAL_ALREADY_EXISTS',
  'WEBHOOK_NOT_FOUND',
  // the transparency log's witnesses
  /** A cosignature (audit.cosignature) for a checkpoint the coordinator never issued. */
  'CHECKPOINT_NOT_FOUND',
  /** A cosignature that does not verify under the node's identity key, or is dated in the future. */
  'COSIGNATURE_INVALID',
  /** No checkpoint has the cosignatures a bundle asked for (`witnesses=N`). */
  'CHECKPOINT_NOT_WITNESSED',
  // commitments and shares
  'COMMITMENT_REUSED',
  'COMMITMENT_INVALID',
  'COMMITMENT_CONFLICT',
  'IDENTIFIER_MISMATCH',
  'SHARE_MALFORMED',
  'SHARE_INVALID',
  'SHARE_CONFLICT',
  // signing outcome
  'NOT_ENOUGH_SIGNERS',
  'AGGREGATE_INVALID',
  // key ceremonies (distributed key generation)
  'CEREMONY_NOT_FOUND',
  'CEREMONY_FINISHED',
  'CEREMONY_ROUND_MISMATCH',
  'CEREMONY_CONFLICT',
  'CEREMONY_PACKAGE_INVALID',
  'NOT_A_PARTICIPANT',
  'NODE_NOT_CONNECTED',
  'BAD_SIGNATURE',
  // session-key grants: why a request under a grant is refused (grant.ts)
  ...GRANT_REFUSALS,
  // REST routing and limits
  'NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'TOO_MANY_CONNECTIONS',
  // infrastructure
  'DATABASE_UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/**
 * Reasons a signer node gives when it refuses a proposal (`request.decline`) or a signing package
 * (`attempt.refuse`). Decided by the node alone; the coordinator records them and never overrides them.
 */
export const RefusalCodes = [
  'POLICY_DENIED',
  'OPERATOR_REJECTED',
  'INTENT_MISMATCH',
  'INTENT_INVALID',
  'KEY_NOT_HELD',
  'SUITE_MISMATCH',
  'DEADLINE_PASSED',
  'MESSAGE_MISMATCH',
  'NOT_PROPOSED',
  'COMMITMENT_MISSING',
  'COMMITMENT_ALTERED',
  'SIGNER_SET_SIZE',
  'SIGNER_SET_INVALID',
  'NONCE_UNKNOWN',
  'NONCE_CONSUMED',
  'SIGNING_FAILED',
  // requests under a session-key grant (issue 10)
  /** The grant in the proposal is not the grant this node holds under that id (another hash). */
  'GRANT_MISMATCH',
  /** This node's operator (or the coordinator) revoked the grant: nothing under it is signed any more. */
  'GRANT_REVOKED',
  /** The agent's authorization does not verify under the grantee's key, or is for another grant or intent. */
  'AGENT_SIGNATURE_INVALID',
  /** The agent signed too long ago (or in the future) by this node's clock. */
  'AGENT_REQUEST_STALE',
  /** The agent's nonce was already used under this grant on this node, for another request. */
  'AGENT_REQUEST_REPLAYED',
] as const;
export type RefusalCode = (typeof RefusalCodes)[number];
