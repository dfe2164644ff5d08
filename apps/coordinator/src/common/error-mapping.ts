import { HttpStatus } from '@nestjs/common';
import { CloseCode, type ErrorCode } from '#protocol';

/** Exhaustive: a new error code does not compile until it has an HTTP status. */
export function httpStatusOf(code: ErrorCode): HttpStatus {
  switch (code) {
    case 'MALFORMED_FRAME':
    case 'UNSUPPORTED_VERSION':
    case 'VALIDATION_FAILED':
    case 'INVALID_KEY_PACKAGE':
    case 'COMMITMENT_INVALID':
    case 'SHARE_MALFORMED':
    case 'IDENTIFIER_MISMATCH':
    case 'CEREMONY_PACKAGE_INVALID':
    case 'BAD_SIGNATURE':
    case 'DECISION_INVALID':
    case 'INVALID_PAYLOAD':
    case 'CHAIN_ID_REQUIRED':
    case 'CHAIN_ID_MISMATCH':
    case 'DEADLINE_PASSED':
      return HttpStatus.BAD_REQUEST;
    case 'UNAUTHORIZED':
    case 'AUTH_FAILED':
    case 'AUTH_REQUIRED':
    case 'CHALLENGE_EXPIRED':
    case 'AGENT_SIGNATURE_INVALID': // a request under a grant: the agent's session key did not sign it
    case 'AGENT_REQUEST_STALE':
      return HttpStatus.UNAUTHORIZED;
    case 'NODE_REVOKED':
    case 'NOT_A_MEMBER':
    case 'NOT_IN_SIGNER_SET':
    case 'NOT_PROPOSED':
    case 'NOT_A_PARTICIPANT':
    case 'CSRF_INVALID':
    case 'FORBIDDEN': // and below: requests under a grant outside what it allows (GRANT_REFUSALS)
    case 'GRANT_NOT_ACTIVE':
    case 'GRANT_NOT_YET_VALID':
    case 'GRANT_EXPIRED':
    case 'GRANT_REVOKED':
    case 'KEY_NOT_ALLOWED':
    case 'KIND_NOT_ALLOWED':
    case 'CHAIN_NOT_ALLOWED':
    case 'DOMAIN_NOT_ALLOWED':
    case 'TYPE_NOT_ALLOWED':
    case 'FIELD_NOT_ALLOWED':
    case 'OVER_REQUEST_LIMIT':
    case 'OVER_BUDGET':
    case 'OVER_MAX_REQUESTS':
      return HttpStatus.FORBIDDEN;
    case 'NOT_FOUND':
    case 'NODE_UNKNOWN':
    case 'NODE_NOT_FOUND':
    case 'KEY_NOT_FOUND':
    case 'REQUEST_NOT_FOUND':
    case 'ATTEMPT_NOT_FOUND':
    case 'CEREMONY_NOT_FOUND':
    case 'PRINCIPAL_NOT_FOUND':
    case 'GRANT_NOT_FOUND':
    case 'WEBHOOK_NOT_FOUND':
    case 'CHECKPOINT_NOT_FOUND':
      return HttpStatus.NOT_FOUND;
    case 'NODE_ALREADY_ENROLLED':
    case 'KEY_ALREADY_EXISTS':
    case 'IDEMPOTENCY_CONFLICT':
    case 'COMMITMENT_REUSED':
    case 'COMMITMENT_CONFLICT':
    case 'SHARE_CONFLICT':
    case 'UNEXPECTED_FRAME':
    case 'CEREMONY_ROUND_MISMATCH':
    case 'CEREMONY_CONFLICT':
    case 'NODE_NOT_CONNECTED':
    case 'REQUEST_FINISHED': // over REST: cancelling a request that is already over
    case 'PRINCIPAL_ALREADY_EXISTS':
    case 'INTENT_ALREADY_SIGNED':
    case 'SEQUENCE_USED':
    case 'AGENT_REQUEST_REPLAYED':
    case 'CHECKPOINT_NOT_WITNESSED': // a bundle asked for more cosignatures than any checkpoint has yet
      return HttpStatus.CONFLICT;
    case 'KEY_RETIRED':
    case 'REQUEST_EXPIRED':
    case 'REQUEST_CANCELLED':
    case 'ATTEMPT_FINISHED':
    case 'CEREMONY_FINISHED':
      return HttpStatus.GONE;
    case 'SHARE_INVALID':
    case 'COSIGNATURE_INVALID':
    case 'NOT_ENOUGH_SIGNERS':
    case 'REJECTED':
    case 'AGGREGATE_INVALID':
      return HttpStatus.UNPROCESSABLE_ENTITY;
    case 'PAYLOAD_TOO_LARGE':
      return HttpStatus.PAYLOAD_TOO_LARGE;
    case 'TOO_MANY_CONNECTIONS':
    case 'RATE_LIMITED':
      return HttpStatus.TOO_MANY_REQUESTS;
    case 'DATABASE_UNAVAILABLE':
      return HttpStatus.SERVICE_UNAVAILABLE;
    case 'INTERNAL':
      return HttpStatus.INTERNAL_SERVER_ERROR;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

/** Codes that end a WebSocket connection during authentication, with their close code. */
export function closeCodeOf(code: ErrorCode): number | null {
  switch (code) {
    case 'NODE_UNKNOWN':
      return CloseCode.NODE_UNKNOWN;
    case 'NODE_REVOKED':
      return CloseCode.NODE_REVOKED;
    case 'AUTH_FAILED':
      return CloseCode.AUTH_FAILED;
    case 'CHALLENGE_EXPIRED':
      return CloseCode.AUTH_TIMEOUT;
    case 'AUTH_REQUIRED':
      return CloseCode.AUTH_REQUIRED;
    default:
      return null;
  }
}
