import { ConsoleSessionResponse } from '#api';
import type { TestCoordinator } from './coordinator.js';

/** An answer: status, parsed JSON body (or text), and the Set-Cookie header. */
export interface CookieAnswer {
  status: number;
  body: unknown;
  setCookie: string | null;
}

/** A browser-like caller: no Authorization header, only the `rt_console` cookie it was given. */
export class CookieCaller {
  cookie: string | null = null;
  csrfToken: string | null = null;

  constructor(private readonly coord: TestCoordinator) {}

  async call(method: string, path: string, options: { body?: unknown; csrf?: string | null; headers?: Record<string, string> } = {}): Promise<CookieAnswer> {
    const csrf = options.csrf === undefined ? this.csrfToken : options.csrf;
    const res = await fetch(`${this.coord.httpUrl}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') ?? false;
    return { status: res.status, body: text ? (json ? (JSON.parse(text) as unknown) : text) : null, setCookie: res.headers.get('set-cookie') };
  }

  /** Signs in with `apiKey`; keeps the cookie and the CSRF token; returns the session (throws unless 201). */
  async signIn(apiKey: string): Promise<ConsoleSessionResponse> {
    const res = await this.call('POST', '/v1/console/session', { body: { apiKey } });
    if (res.status !== 201) throw new Error(`sign-in: ${res.status} ${JSON.stringify(res.body)}`);
    this.cookie = /^(rt_console=[^;]*)/.exec(res.setCookie ?? '')?.[1] ?? null;
    const session = ConsoleSessionResponse.parse(res.body);
    this.csrfToken = session.csrfToken;
    return session;
  }
}
