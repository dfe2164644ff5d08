import { isEnrollmentRefusal, isSignerError } from '#signer';

/** Where a command writes: stdout for its result (JSON), stderr for messages. Swappable in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
};

/**
 * Exit codes, so that a supervisor can tell "retrying will not help" from a crash:
 * 1 any error (bad arguments, keystore, coordinator refused a REST call), 2 the policy file is invalid
 * (the message names the line or field), 3 the coordinator does not
 * accept this node (unknown or revoked: an admin must enroll it), 4 the node or the coordinator
 * refused the authentication (wrong coordinator id, bad signature, another node with this identity),
 * 5 another process holds the keystore (or took it over while the node ran): stop it first.
 */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  POLICY_INVALID: 2,
  NOT_ENROLLED: 3,
  AUTH_REFUSED: 4,
  KEYSTORE_IN_USE: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(error: unknown): ExitCode {
  if (isEnrollmentRefusal(error)) return ExitCode.NOT_ENROLLED;
  if (isSignerError(error)) {
    switch (error.code) {
      case 'AUTH_FAILED':
      case 'COORDINATOR_MISMATCH':
      case 'REPLACED':
        return ExitCode.AUTH_REFUSED;
      case 'POLICY_INVALID':
        return ExitCode.POLICY_INVALID;
      case 'KEYSTORE_IN_USE':
      case 'KEYSTORE_LOCK_LOST':
        return ExitCode.KEYSTORE_IN_USE;
      default:
        return ExitCode.ERROR;
    }
  }
  return ExitCode.ERROR;
}

/** Prints an error for an operator: the message only for expected errors, the stack for bugs. */
export function reportError(io: CliIo, error: unknown): ExitCode {
  if (isSignerError(error)) io.stderr(`error: ${error.message}`);
  else io.stderr(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return exitCodeFor(error);
}

export const printJson = (io: CliIo, value: unknown): void => io.stdout(JSON.stringify(value, null, 2));
