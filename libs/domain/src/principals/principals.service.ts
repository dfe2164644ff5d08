import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PRINCIPAL_ROLES } from '#protocol';
import { actorRef, auditActor } from '../common/actor.js';
import type { Actor } from '../common/tokens.js';
import { DomainError } from '../errors.js';
import { STORE, type Store } from '../ports.js';
import type { PrincipalRecord, PrincipalRole } from '../records.js';
import { apiKeyFingerprint, apiKeyHash, looksLikeApiKey, newApiKey } from './principal-keys.js';

export interface CreatePrincipalInput {
  name: string;
  role: PrincipalRole;
}

/**
 * API principals: created by an admin with a role, authenticated by an API key that is shown once (the
 * return value of `create`) and stored only as its SHA-256. Revocation takes effect on the next call:
 * every authentication reads the principal's row, nothing is cached.
 */
@Injectable()
export class PrincipalsService {
  constructor(@Inject(STORE) private readonly store: Store) {}

  async create(input: CreatePrincipalInput, actor: Actor): Promise<{ principal: PrincipalRecord; apiKey: string }> {
    if (!(PRINCIPAL_ROLES as readonly string[]).includes(input.role)) {
      throw new DomainError('VALIDATION_FAILED', `role must be one of ${PRINCIPAL_ROLES.join(', ')}`);
    }
    const apiKey = newApiKey();
    const principal: PrincipalRecord = {
      id: randomUUID(),
      name: input.name,
      role: input.role,
      apiKeyHash: apiKeyHash(apiKey),
      createdAt: new Date(),
      createdBy: actorRef(actor),
      revokedAt: null,
    };
    await this.store.transaction(async (tx) => {
      // The unique constraint decides a race; this answers the common case with a clear message.
      if (await tx.principals.findByName(input.name)) throw alreadyExists(input.name);
      await tx.principals.insert(principal);
      await tx.audit.append({
        occurredAt: principal.createdAt,
        action: 'principal.created',
        outcome: 'success',
        ...auditActor(actor, {
          principalId: principal.id,
          name: principal.name,
          role: principal.role,
          keyFingerprint: apiKeyFingerprint(principal.apiKeyHash),
        }),
      });
    });
    return { principal, apiKey };
  }

  /** Revokes at once (the next call with its key is refused); revoking a revoked principal returns it unchanged. */
  async revoke(principalId: string, actor: Actor): Promise<PrincipalRecord> {
    return this.store.transaction(async (tx) => {
      const found = await tx.principals.findById(principalId);
      if (!found) throw notFound(principalId);
      if (found.revokedAt !== null) return found;
      const at = new Date();
      await tx.principals.revoke(found.id, at);
      await tx.audit.append({
        occurredAt: at,
        action: 'principal.revoked',
        outcome: 'success',
        ...auditActor(actor, {
          principalId: found.id,
          name: found.name,
          role: found.role,
          keyFingerprint: apiKeyFingerprint(found.apiKeyHash),
        }),
      });
      return { ...found, revokedAt: at };
    });
  }

  async get(principalId: string): Promise<PrincipalRecord> {
    const found = await this.store.read.principals.findById(principalId);
    if (!found) throw notFound(principalId);
    return found;
  }

  list(): Promise<PrincipalRecord[]> {
    return this.store.read.principals.list();
  }

  /**
   * The active principal an API key belongs to; null for a token that is not an API key, an unknown key
   * or a revoked principal's. The key is hashed first and the hash looked up through a unique index, so
   * no comparison ever runs over the secret itself.
   */
  async authenticate(apiKey: string): Promise<PrincipalRecord | null> {
    if (!looksLikeApiKey(apiKey)) return null;
    const found = await this.store.read.principals.findByApiKeyHash(apiKeyHash(apiKey));
    return found && found.revokedAt === null ? found : null;
  }
}

const notFound = (id: string) => new DomainError('PRINCIPAL_NOT_FOUND', `principal ${id} not found`, { principalId: id });
const alreadyExists = (name: string) => new DomainError('PRINCIPAL_ALREADY_EXISTS', `a principal named ${JSON.stringify(name)} already exists`, { name });
