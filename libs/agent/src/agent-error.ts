import type { z } from 'zod';
import { GRANT_REFUSALS, type GrantRefusal } from '#protocol';

/** Codes the client itself raises (the coordinator's own codes pass through as it sent them). */
export type AgentClientCode = 'UNREACHABLE' | 'BAD_RESPONSE' | 'HTTP_ERROR' | 'VALIDATION_FAILED' | 'TIMEOUT' | 'INVALID_CONFIG';

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`)
    .join('; ');

/**
 * Every failure of the agent client: `code` is the coordinator's error code (`OVER_BUDGET`,
 * `GRANT_REVOKED`, ... docs/protocol.md) or one of the client's own; `status` the HTTP status (0 when
 * there was no answer). `refusal` is set when the coordinator refused a request under a grant.
 */
export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AgentError';
  }

  /** The grant refusal this error carries (GRANT_REFUSALS in libs/protocol), or null for any other error. */
  get refusal(): GrantRefusal | null {
    return isGrantRefusal(this.code) ? this.code : null;
  }

  static invalid(what: string, error: z.ZodError): AgentError {
    return new AgentError('VALIDATION_FAILED', `${what}: ${describeIssues(error)}`, 0, { issues: error.issues });
  }

  static badResponse(what: string, status: number, error: z.ZodError): AgentError {
    return new AgentError('BAD_RESPONSE', `${what}: the coordinator's answer does not match the API this client knows: ${describeIssues(error)}`, status);
  }
}

export const isGrantRefusal = (code: string): code is GrantRefusal => (GRANT_REFUSALS as readonly string[]).includes(code);
