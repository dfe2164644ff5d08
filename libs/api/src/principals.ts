import { z } from 'zod';
import { PRINCIPAL_ROLES, Uuid } from '#protocol';
import { Timestamp } from './common.js';

export const PrincipalRole = z.enum(PRINCIPAL_ROLES);
export type PrincipalRole = z.infer<typeof PrincipalRole>;

/** A principal's name: what an admin recognises it by in lists and the audit log. */
export const PrincipalName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/, 'letters, digits and . _ @ + - only (1..100, starting with a letter or digit)');

/** `POST /v1/principals`. */
export const CreatePrincipalBody = z.strictObject({
  name: PrincipalName,
  role: PrincipalRole,
});
export type CreatePrincipalBody = z.infer<typeof CreatePrincipalBody>;

/** `GET /v1/principals/:id`, `POST /v1/principals/:id/revoke`. Never the key, nor its hash. */
export const PrincipalResponse = z.object({
  id: Uuid,
  name: z.string(),
  role: PrincipalRole,
  status: z.enum(['active', 'revoked']),
  /** The first 16 hex digits of the key's SHA-256: tells keys apart, in lists and the audit log. */
  keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/),
  createdAt: Timestamp,
  /** `admin` (the bootstrap token) or `principal:<id>`. */
  createdBy: z.string(),
  revokedAt: Timestamp.nullable(),
});
export type PrincipalResponse = z.infer<typeof PrincipalResponse>;

/** `POST /v1/principals` (201): the principal and its API key, shown this once and never again. */
export const CreatePrincipalResponse = PrincipalResponse.extend({
  apiKey: z.string().regex(/^rt_[A-Za-z0-9_-]{43}$/),
});
export type CreatePrincipalResponse = z.infer<typeof CreatePrincipalResponse>;

/** `GET /v1/principals`: in creation order, revoked ones included. */
export const PrincipalListResponse = z.array(PrincipalResponse);
export type PrincipalListResponse = z.infer<typeof PrincipalListResponse>;
