/**
 * Stable codes for everything that can go wrong on a signer node. The CLI maps them to exit codes
 * and messages; nothing here knows about processes or terminals.
 */
export const SignerErrorCodes = [
  // configuration
  'INVALID_CONFIG',
  // keystore
  'KEYSTORE_MISSING',
  'KEYSTORE_NOT_INITIALIZED',
  'PASSPHRASE_MISSING',
  'WRONG_PASSPHRASE',
  'KEYSTORE_CORRUPT',
  'KEYSTORE_TAMPERED',
  /** Another process holds the keystore's lock (one process per keystore). */
  'KEYSTORE_IN_USE',
  /** The running node lost the keystore's lock: another process may be using the keystore. */
  'KEYSTORE_LOCK_LOST',
  'IDENTITY_EXISTS',
  'IDENTITY_CORRUPT',
  'SHARE_MISSING',
  'SHARE_CORRUPT',
  'SHARE_INVALID',
  'SHARE_EXISTS',
  /** A share backup made by another identity than the importing keystore's. */
  'SHARE_IDENTITY_MISMATCH',
  'SEALED_SHARE_REJECTED',
  'JOURNAL_CORRUPT',
  'JOURNAL_UNAVAILABLE',
  // node policy (libs/signer/src/policy)
  /** The policy document does not parse or does not validate: the message names the line or field. */
  'POLICY_INVALID',
  /** The velocity ledger or policy log in the state directory cannot be read or written. */
  'POLICY_STATE_CORRUPT',
  // refusals by the coordinator (fatal: retrying cannot help without an operator)
  'NODE_UNKNOWN',
  'NODE_REVOKED',
  'AUTH_FAILED',
  'COORDINATOR_MISMATCH',
  'REPLACED',
  // node lifecycle
  'STOPPED',
  // the operator's approvals channel (a UNIX socket in the keystore directory)
  /** The socket's path is longer than a UNIX socket address allows. */
  'APPROVALS_SOCKET_PATH_TOO_LONG',
  /** The keystore directory is open to other users, or the socket path is taken by something else. */
  'APPROVALS_CHANNEL_INSECURE',
  /** No node is listening on the keystore's approvals socket (or it did not answer). */
  'APPROVALS_UNAVAILABLE',
  /** The node refused the operator's request (not found, closed, expired, already decided). */
  'APPROVALS_REFUSED',
  // dealer / admin REST
  'COORDINATOR_UNREACHABLE',
  'COORDINATOR_REJECTED',
  'NODE_NOT_ENROLLED',
  'DEALER_INVALID',
] as const;
export type SignerErrorCode = (typeof SignerErrorCodes)[number];

export class SignerError extends Error {
  constructor(
    readonly code: SignerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignerError';
  }
}

export const isSignerError = (e: unknown): e is SignerError => e instanceof SignerError;

/** The coordinator does not accept this node's identity: only an admin can fix it (enroll or re-enroll). */
export const isEnrollmentRefusal = (e: unknown): boolean =>
  isSignerError(e) && (e.code === 'NODE_UNKNOWN' || e.code === 'NODE_REVOKED');
