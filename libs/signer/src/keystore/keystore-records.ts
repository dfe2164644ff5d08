import { z } from 'zod';
import { SUITE_IDS, type PublicKeyPackage, type SuiteId } from '#crypto';
import { Element, Identifier, Scalar, hexBytes } from '#protocol';

/** Version of the records inside the encrypted keystore files (2: encrypted at rest). */
export const KEYSTORE_FORMAT_VERSION = 2 as const;

export const IdentityRecord = z.strictObject({
  version: z.literal(KEYSTORE_FORMAT_VERSION),
  publicKey: hexBytes(32),
  secretKey: hexBytes(32),
});
export type IdentityRecord = z.infer<typeof IdentityRecord>;

export const PublicKeyPackageRecord = z.strictObject({
  suite: z.enum(SUITE_IDS),
  threshold: z.number().int().min(1),
  maxSigners: z.number().int().min(1),
  commitments: z.array(Element).min(1),
  verifyingShares: z.record(Identifier, Element),
});

export const ShareRecord = z.strictObject({
  version: z.literal(KEYSTORE_FORMAT_VERSION),
  keyId: z.uuid(),
  suite: z.enum(SUITE_IDS),
  identifier: Identifier,
  signingShare: Scalar,
  publicPackage: PublicKeyPackageRecord,
});
export type ShareRecord = z.infer<typeof ShareRecord>;

/** This node's part of a threshold key: its secret signing share and the key's public package. */
export interface KeyShare {
  keyId: string;
  suite: SuiteId;
  /** This node's FROST identifier in the key (hex). */
  identifier: string;
  /** Secret signing share (hex). Never leaves the node. */
  signingShare: string;
  publicPackage: PublicKeyPackage;
}
