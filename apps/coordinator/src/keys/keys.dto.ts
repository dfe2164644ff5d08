import { z } from 'zod';
import type { KeyRecord } from '#domain';
import { Element, Identifier, SuiteId } from '#protocol';

/** The public package of a trusted-dealer key (never a secret share). */
export const RegisterKeyDto = z.strictObject({
  id: z.uuid().optional(),
  suite: SuiteId,
  threshold: z.number().int().min(2).max(255),
  maxSigners: z.number().int().min(2).max(255),
  commitments: z.array(Element).min(2).max(255),
  verifyingShares: z.record(Identifier, Element),
  members: z.array(z.strictObject({ nodeId: z.uuid(), identifier: Identifier })).min(2).max(255),
});

export const toKeyDto = (key: KeyRecord) => ({
  id: key.id,
  suite: key.suite,
  threshold: key.threshold,
  maxSigners: key.maxSigners,
  groupPublicKey: key.groupPublicKey,
  members: key.members,
  commitments: key.publicPackage.commitments,
  status: key.status,
  origin: key.origin,
  createdAt: key.createdAt.toISOString(),
});
