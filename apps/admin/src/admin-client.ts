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
    if (!token) throw new AdminApiError(0, 'INVALID_CONFIG', 'an admin token is required (--admin-token or ROUNDTABLE_ADMIN_TOKEN)');
    this.baseUrl = url.origin;
  }

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
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
      const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
      throw new AdminApiError(res.status, error?.code ?? 'HTTP_ERROR', error?.message ?? `${method} ${path} answered ${res.status}`);
    }
    return json as T;
  }
}
