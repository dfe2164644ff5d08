import { ApiError, RoundtableClient } from '#sdk';

/**
 * The console's one client of the REST API (the typed SDK: every answer parsed with the contract's zod
 * schemas). Same origin, no token: the browser sends the httpOnly session cookie. The CSRF token the
 * sign-in answered is kept here, in memory only, and the SDK sends it on every call that is not a GET.
 */
let csrfToken: string | undefined;

export const setCsrfToken = (token: string | undefined): void => {
  csrfToken = token;
};

let onUnauthorized: (() => void) | undefined;

/** What to do when a call is answered 401 (the session expired, ended, or its principal was revoked). */
export const setUnauthorizedHandler = (handler: (() => void) | undefined): void => {
  onUnauthorized = handler;
};

export const client = new RoundtableClient({
  csrfToken: () => csrfToken,
  timeoutMs: 30_000,
  fetch: async (input, init) => {
    const res = await fetch(input, init);
    // The session routes answer 401 as part of signing in: only other calls mean the session is gone.
    if (res.status === 401 && !String(input instanceof Request ? input.url : input).includes('/v1/console/session')) onUnauthorized?.();
    return res;
  },
});

/** An error as the console shows it: the API's code first, then its message. */
export function describeError(e: unknown): { code: string; message: string } {
  if (e instanceof ApiError) return { code: e.code, message: e.message };
  return { code: 'ERROR', message: e instanceof Error ? e.message : String(e) };
}

export { ApiError };
