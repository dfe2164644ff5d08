import type { z } from 'zod';
import { ErrorResponse } from '#api';

/** A thin client for the coordinator's admin REST API; errors carry the API's code and message. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');

export class AdminClient {
  private readonly baseUrl: string;

  constructor(
    coordinatorUrl: string,
    private readonly token: string,
  ) {
    let url: URL;
    try {
      url = new URL(coordinatorUrl);
    } catch {
      throw new AdminApiError(0, 'INVALID_CONFIG', `not a URL: ${coordinatorUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AdminApiError(0, 'INVALID_CONFIG', `the coordinator URL must be http(s)://, got ${url.protocol}`);
    }
    if (!token) throw new AdminApiError(0, 'INVALID_CONFIG', 'a bearer token is required: the admin token or an API key (--admin-token or ROUNDTABLE_ADMIN_TOKEN)');
    this.baseUrl = url.origin;
  }

  /**
   * Calls the API and parses the answer with the endpoint's response schema (libs/api): an answer that
   * does not match is a BAD_RESPONSE naming the fields, never a value of the wrong shape.
   */
  async call<S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S, body?: unknown): Promise<z.output<S>> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', accept: 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(75_000),
      });
    } catch (e) {
      throw new AdminApiError(0, 'UNREACHABLE', `cannot reach the coordinator at ${this.baseUrl}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new AdminApiError(res.status, 'BAD_RESPONSE', `${method} ${path}: not JSON (${res.status})`);
    }
    if (!res.ok) {
      const error = ErrorResponse.safeParse(json);
      if (!error.success) throw new AdminApiError(res.status, 'HTTP_ERROR', `${method} ${path} answered ${res.status}`);
      throw new AdminApiError(res.status, error.data.error.code, error.data.error.message);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new AdminApiError(
        res.status,
        'BAD_RESPONSE',
        `${method} ${path}: the coordinator's answer does not match the API this CLI knows: ${describeIssues(parsed.error)}`,
      );
    }
    return parsed.data;
  }
}
