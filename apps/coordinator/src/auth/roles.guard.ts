import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { DomainError, PrincipalsService, type Actor } from '#domain';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from '../config/coordinator-config.js';
import { setRequestActor } from './current-actor.decorator.js';
import { allowedRoles, PUBLIC_METADATA, roleOf, ROLES_METADATA, type GrantedRole } from './roles.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The audit actor of the bootstrap admin token. */
export const ADMIN_TOKEN_ACTOR: Actor = Object.freeze({ kind: 'admin', id: 'admin-token' });

/**
 * Authentication and roles for every REST route (bound as a global guard). The bearer token is the
 * configured admin token (compared in constant time) or a principal's API key (hashed, then looked up by
 * its hash; revoked keys are refused on the next call, nothing is cached). No valid token: 401
 * UNAUTHORIZED. A valid token whose role the route does not grant (`@Roles`): 403 FORBIDDEN. `@Public`
 * routes need no token. The WebSocket endpoint authenticates nodes itself and is not concerned.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly adminTokenDigest: Buffer;

  constructor(
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(PrincipalsService) private readonly principals: PrincipalsService,
  ) {
    this.adminTokenDigest = digest(config.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_METADATA, targets)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const actor = await this.authenticate(req.headers.authorization);
    const allowed = allowedRoles(this.reflector.getAllAndOverride<GrantedRole[] | undefined>(ROLES_METADATA, targets));
    const role = roleOf(actor);
    if (role === null || !allowed.includes(role)) {
      const route = `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
      throw new DomainError('FORBIDDEN', `the ${role ?? actor.kind} role may not call ${route}`, { role, allowed });
    }
    setRequestActor(req, actor);
    return true;
  }

  private async authenticate(header: string | undefined): Promise<Actor> {
    const token = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    if (token !== undefined) {
      if (timingSafeEqual(digest(token), this.adminTokenDigest)) return ADMIN_TOKEN_ACTOR;
      const principal = await this.principals.authenticate(token);
      if (principal) return { kind: 'principal', id: principal.id, role: principal.role };
    }
    throw new DomainError('UNAUTHORIZED', 'a valid bearer token is required: the admin token or an active API key');
  }
}
