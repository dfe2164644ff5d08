import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { CONSOLE_CSRF_HEADER as CSRF_HEADER } from '#api';
import { ConsoleSessionsService, DomainError, type Actor } from '#domain';
import { CONSOLE_COOKIE, readCookie, setRequestSession } from '../console/console-cookie.js';
import { ApiTokens } from './api-tokens.js';
import { setRequestActor } from './current-actor.decorator.js';
import { allowedRoles, PUBLIC_METADATA, roleOf, ROLES_METADATA, type GrantedRole } from './roles.js';

export { ADMIN_TOKEN_ACTOR } from './api-tokens.js';

/** Methods that change nothing: a cookie-authenticated call needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sameToken = (given: string, expected: string): boolean => {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Authentication and roles for every REST route (bound as a global guard). First the bearer token: the
 * configured admin token or a principal's API key (auth/api-tokens.ts). Without an Authorization header,
 * the web console's `rt_console` cookie: its session is looked up by the hash of the secret (ended or
 * expired: 401; a principal revoked since sign-in: 401, its row is read on every call), and every call
 * that is not a GET, HEAD or OPTIONS must carry the session's CSRF token in `X-CSRF-Token` (403
 * CSRF_INVALID otherwise). No valid credential: 401 UNAUTHORIZED. A valid one whose role the route does
 * not grant (`@Roles`): 403 FORBIDDEN. `@Public` routes need none. The WebSocket endpoint authenticates
 * nodes itself and is not concerned.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiTokens) private readonly tokens: ApiTokens,
    @Inject(ConsoleSessionsService) private readonly sessions: ConsoleSessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const actor = await this.authenticate(req);
    const allowed = allowedRoles(this.reflector.getAllAndOverride<GrantedRole[] | undefined>(ROLES_METADATA, targets));
    const role = roleOf(actor);
    if (role === null || !allowed.includes(role)) {
      const route = `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
      throw new DomainError('FORBIDDEN', `the ${role ?? actor.kind} role may not call ${route}`, { role, allowed });
    }
    setRequestActor(req, actor);
    return true;
  }

  private async authenticate(req: Request): Promise<Actor> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const token = /^Bearer (.+)$/.exec(header)?.[1];
      const actor = token === undefined ? null : await this.tokens.authenticate(token);
      if (actor) return actor;
      throw new DomainError('UNAUTHORIZED', 'a valid bearer token is required: the admin token or an active API key');
    }
    const secret = readCookie(req.headers.cookie, CONSOLE_COOKIE);
    if (secret !== undefined) {
      const view = await this.sessions.resolve(secret);
      if (!view) throw new DomainError('UNAUTHORIZED', 'the console session has ended or expired: sign in again');
      if (!SAFE_METHODS.has(req.method)) {
        const given = req.headers[CSRF_HEADER];
        if (typeof given !== 'string' || !sameToken(given, view.session.csrfToken)) {
          throw new DomainError('CSRF_INVALID', `a console call that changes state needs the session's ${CSRF_HEADER} header`);
        }
      }
      setRequestSession(req, view);
      return view.actor;
    }
    throw new DomainError('UNAUTHORIZED', 'a valid bearer token is required: the admin token or an active API key');
  }
}
