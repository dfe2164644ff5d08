import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError } from '#domain';
import { requestActor } from '../auth/current-actor.decorator.js';
import { ADMIN_TOKEN_ACTOR } from '../auth/roles.guard.js';
import { roleOf } from '../auth/roles.js';

/**
 * @deprecated Transitional: the global RolesGuard (auth/roles.guard.ts) authenticates every route and
 * checks its `@Roles`. This only insists that the caller it authenticated acts as an admin (the admin
 * token or an admin principal), for controllers not yet moved to `@Roles` and `@CurrentActor()`.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const actor = requestActor(req);
    if (!actor) throw new DomainError('UNAUTHORIZED', 'a valid bearer token is required: the admin token or an active API key');
    const role = roleOf(actor);
    if (role !== 'admin') throw new DomainError('FORBIDDEN', `the ${role ?? actor.kind} role may not call ${req.method} ${req.path}`, { role, allowed: ['admin'] });
    return true;
  }
}

/** @deprecated The audit actor of the admin token; controllers pass `@CurrentActor()` instead. */
export const ADMIN_ACTOR = ADMIN_TOKEN_ACTOR;
