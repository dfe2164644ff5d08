import type { PrincipalResponse } from '#api';
import { apiKeyFingerprint, type PrincipalRecord } from '#domain';

/** A principal as the API shows it: never its key, nor the key's hash (only a fingerprint of it). */
export function toPrincipalDto(p: PrincipalRecord): PrincipalResponse {
  return {
    id: p.id,
    name: p.name,
    role: p.role,
    status: p.revokedAt === null ? 'active' : 'revoked',
    keyFingerprint: apiKeyFingerprint(p.apiKeyHash),
    createdAt: p.createdAt.toISOString(),
    createdBy: p.createdBy,
    revokedAt: p.revokedAt?.toISOString() ?? null,
  };
}
