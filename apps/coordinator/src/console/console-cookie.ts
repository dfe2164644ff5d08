import type { Request } from 'express';
import type { ConsoleSessionView } from '#domain';

/** The console session cookie's name. */
export const CONSOLE_COOKIE = 'rt_console';

/** A cookie's value from a `Cookie` header, or undefined (the first one of that name wins). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * `Set-Cookie` for a session: HttpOnly (no script reads it, so an XSS cannot carry it away),
 * SameSite=Strict (no other site's page makes the browser send it), Path=/ (the API and the console
 * share the origin), Secure when asked, and a Max-Age equal to the session's remaining life.
 */
export function sessionCookie(secret: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return `${CONSOLE_COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}${options.secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` that removes the session cookie. */
export const clearedCookie = (secure: boolean): string => `${CONSOLE_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`;

/** The console session the roles guard authenticated a request with (none for a bearer token). */
const sessions = new WeakMap<Request, ConsoleSessionView>();

export const setRequestSession = (req: Request, view: ConsoleSessionView): void => {
  sessions.set(req, view);
};

export const requestSession = (req: Request): ConsoleSessionView | undefined => sessions.get(req);
