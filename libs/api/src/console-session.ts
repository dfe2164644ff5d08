import { z } from 'zod';
import { PRINCIPAL_ROLES } from '#protocol';
import { Timestamp } from './common.js';

/** The header a console call that changes state carries its session's CSRF token in (the SDK sends it). */
export const CONSOLE_CSRF_HEADER = 'x-csrf-token';

/**
 * `POST /v1/console/session` (public): sign in to the web console with the admin token or a principal's
 * API key. The answer sets the `rt_console` cookie (httpOnly); the key itself is not kept anywhere.
 */
export const CreateConsoleSessionBody = z.strictObject({
  apiKey: z.string().min(1).max(1024),
});
export type CreateConsoleSessionBody = z.infer<typeof CreateConsoleSessionBody>;

/**
 * `POST /v1/console/session` (201) and `GET /v1/console/session`: who is signed in, and the CSRF token
 * the page sends as `X-CSRF-Token` on every call that is not a GET (held in memory only: a reload asks
 * again with the cookie).
 */
export const ConsoleSessionResponse = z.object({
  role: z.enum(PRINCIPAL_ROLES),
  actor: z.object({
    kind: z.enum(['admin', 'principal']),
    /** `admin-token` for the bootstrap token, else the principal's id. */
    id: z.string(),
    /** The principal's name; null for the bootstrap token. */
    name: z.string().nullable(),
  }),
  csrfToken: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  expiresAt: Timestamp,
});
export type ConsoleSessionResponse = z.infer<typeof ConsoleSessionResponse>;

/** `POST /v1/console/session/end`: the session ended (the cookie is cleared either way). */
export const EndConsoleSessionResponse = z.object({ ended: z.boolean() });
export type EndConsoleSessionResponse = z.infer<typeof EndConsoleSessionResponse>;
