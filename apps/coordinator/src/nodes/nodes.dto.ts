import { z } from 'zod';
import type { NodeRecord } from '#domain';

export const EnrollNodeDto = z.strictObject({
  publicKey: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'Ed25519 public key: 32 bytes of hex')
    .transform((s) => s.toLowerCase()),
  label: z.string().trim().min(1).max(200),
});

export const IdParam = z.uuid();

export const toNodeDto = (node: NodeRecord, connected: boolean) => ({
  id: node.id,
  label: node.label,
  publicKey: node.publicKey,
  status: node.status,
  connected,
  createdAt: node.createdAt.toISOString(),
  revokedAt: node.revokedAt?.toISOString() ?? null,
  lastSeenAt: node.lastSeenAt?.toISOString() ?? null,
});
