import type { z } from 'zod';
import { API, ErrorResponse, type Api, type OperationId, type RouteSpec } from '#api';

/**
 * A typed client of the coordinator's REST API, from the shared contract (libs/api contract.ts): one
 * method, `call(operationId, input)`, whose input and answer types are the route's zod schemas, and whose
 * answers are parsed by them (an answer of the wrong shape is a BAD_RESPONSE naming the fields, never a
 * value of the wrong type). Runs in Node (the admin CLI, agents, tests) and in the browser (the console):
 * `fetch` only.
 */

type Route<K extends OperationId> = Api[K];
type ParamsOf<R> = R extends { params: infer P extends Record<string, z.ZodType> } ? { params: { [K in keyof P]: z.input<P[K]> } } : { params?: never };
type QueryOf<R> = R extends { query: infer Q extends z.ZodType } ? { query?: Partial<z.input<Q>> } : { query?: never };
type BodyOf<R> = R extends { body: infer B extends z.ZodType } ? { body: z.input<B> } : { body?: never };

/** What a call sends: path parameters, query and body as the route's schemas read them, and extra headers. */
export type CallInput<K extends OperationId> = ParamsOf<Route<K>> & QueryOf<Route<K>> & BodyOf<Route<K>> & { headers?: Record<string, string>; signal?: AbortSignal };

type ResponseValue<T> = T extends { schema: infer S extends z.ZodType } ? z.output<S> : string;
/** What a call answers: the parsed body of any of the route's success responses (text for a non-JSON one). */
export type CallOutput<K extends OperationId> = { [S in keyof Route<K>['responses']]: ResponseValue<Route<K>['responses'][S]> }[keyof Route<K>['responses']];

/** Operations whose input is optional (no path parameters, no body). */
type OptionalInput<K extends OperationId> = Route<K> extends { params: unknown } ? never : Route<K> extends { body: unknown } ? never : K;

/** An error answered by the API (`status` >= 400, with its `code`) or met on the way (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ClientOptions {
  /** The coordinator's base URL (`http://127.0.0.1:8080`); omitted in a browser: the page's own origin. */
  baseUrl?: string;
  /** A bearer token: the admin token or a principal's API key. Omitted: the browser's session cookie. */
  token?: string;
  /**
   * The console session's CSRF token, sent as `X-CSRF-Token` on every call that is not a GET (a function:
   * read when the call is made).
   */
  csrfToken?: string | (() => string | undefined);
  /** Per call, 75 s by default (a long-poll waits up to 60 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');

type LooseInput = { params?: Record<string, unknown>; query?: Record<string, unknown> };

export const CSRF_HEADER = 'x-csrf-token';

export class RoundtableClient {
  private readonly origin: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: ClientOptions = {}) {
    if (options.baseUrl !== undefined) {
      let url: URL;
      try {
        url = new URL(options.baseUrl);
      } catch {
        throw new ApiError(0, 'INVALID_CONFIG', `not a URL: ${options.baseUrl}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new ApiError(0, 'INVALID_CONFIG', `the coordinator URL must be http(s)://, got ${url.protocol}`);
      }
      this.origin = url.origin;
    } else {
      this.origin = '';
    }
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The URL of an operation with its path parameters and query (relative to the page without a base URL). */
  url<K extends OperationId>(operation: K, input?: Pick<CallInput<K>, 'params' | 'query'>): string {
    return this.urlOf(operation, input as LooseInput | undefined);
  }

  private urlOf(operation: OperationId, input: LooseInput | undefined): string {
    const route: RouteSpec = API[operation];
    const params = input?.params ?? {};
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
      const value = params[name];
      if (typeof value !== 'string' || value === '') throw new ApiError(0, 'INVALID_INPUT', `${operation}: the path parameter ${name} is missing`);
      return encodeURIComponent(value);
    });
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(input?.query ?? {})) {
      if (v === undefined || v === null) continue;
      for (const item of Array.isArray(v) ? v : [v]) search.append(k, item instanceof Date ? item.toISOString() : String(item));
    }
    const qs = search.toString();
    return `${this.origin}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Calls an operation and parses its answer with the route's response schema. */
  call<K extends OptionalInput<OperationId>>(operation: K, input?: CallInput<K>): Promise<CallOutput<K>>;
  call<K extends OperationId>(operation: K, input: CallInput<K>): Promise<CallOutput<K>>;
  async call<K extends OperationId>(operation: K, input?: CallInput<K>): Promise<CallOutput<K>> {
    const route: RouteSpec = API[operation];
    const res = await this.raw(operation, input);
    const what = `${route.method} ${route.path}`;
    const text = await res.text();
    const spec = route.responses[res.status];
    if (!spec) throw new ApiError(res.status, 'BAD_RESPONSE', `${what} answered ${res.status}, which the API does not define`);
    if (!('schema' in spec)) return text as CallOutput<K>;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new ApiError(res.status, 'BAD_RESPONSE', `${what}: not JSON (${res.status})`);
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(res.status, 'BAD_RESPONSE', `${what}: the coordinator's answer does not match the API this client knows: ${describeIssues(parsed.error)}`);
    }
    return parsed.data as CallOutput<K>;
  }

  /**
   * Calls an operation and returns the successful Response unread (a streamed export, the metrics text);
   * an error answer is thrown as ApiError with the API's code.
   */
  async raw<K extends OperationId>(operation: K, input?: CallInput<K>): Promise<Response> {
    const route: RouteSpec = API[operation];
    const what = `${route.method} ${route.path}`;
    const headers: Record<string, string> = { accept: 'application/json, */*;q=0.5', ...input?.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (route.method !== 'GET') {
      const csrf = typeof this.options.csrfToken === 'function' ? this.options.csrfToken() : this.options.csrfToken;
      if (csrf) headers[CSRF_HEADER] = csrf;
    }
    const body = (input as { body?: unknown } | undefined)?.body;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 75_000);
    let res: Response;
    try {
      res = await this.fetchFn(this.urlOf(operation, input), {
        method: route.method,
        headers,
        credentials: 'same-origin',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: input?.signal ? AbortSignal.any([input.signal, timeout]) : timeout,
      });
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(0, 'UNREACHABLE', `cannot reach the coordinator${this.origin ? ` at ${this.origin}` : ''} (${what}): ${(e as Error).message}`);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: described by its status below
    }
    const error = ErrorResponse.safeParse(json);
    if (!error.success) throw new ApiError(res.status, 'HTTP_ERROR', `${what} answered ${res.status}`);
    throw new ApiError(res.status, error.data.error.code, error.data.error.message, error.data.error.details);
  }
}
