import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PrincipalsService, type Actor } from '#domain';
import { COORDINATOR_CONFIG, type CoordinatorConfig } from '../config/coordinator-config.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The audit actor of the bootstrap admin token. */
export const ADMIN_TOKEN_ACTOR: Actor = Object.freeze({ kind: 'admin', id: 'admin-token' });

/**
 * What a bearer token (or the key typed into the console's sign-in) stands for: the configured admin
 * token, compared in constant time over digests, or an active principal's API key, hashed and looked up
 * by its hash (revoked keys are refused on the next call: nothing is cached). One place, so the console
 * accepts exactly the keys the API does.
 */
@Injectable()
export class ApiTokens {
  private readonly adminTokenDigest: Buffer;

  constructor(
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
    @Inject(PrincipalsService) private readonly principals: PrincipalsService,
  ) {
    this.adminTokenDigest = digest(config.adminToken);
  }

  /** The actor `token` authenticates, or null. */
  async authenticate(token: string): Promise<Actor | null> {
    if (timingSafeEqual(digest(token), this.adminTokenDigest)) return ADMIN_TOKEN_ACTOR;
    const principal = await this.principals.authenticate(token);
    return principal ? { kind: 'principal', id: principal.id, role: principal.role } : null;
  }
}
