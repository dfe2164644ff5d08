import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError } from '#domain';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from '../config/coordinator-config.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Admin bearer token from config, compared in constant time. (Roles come in a later issue.) */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(COORDINATOR_CONFIG) config: CoordinatorConfig) {
    this.expected = digest(config.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), this.expected)) {
      throw new DomainError('UNAUTHORIZED', 'a valid admin bearer token is required');
    }
    return true;
  }
}

/** The audit actor for admin calls. */
export const ADMIN_ACTOR = { kind: 'admin', id: 'admin-token' } as const;
