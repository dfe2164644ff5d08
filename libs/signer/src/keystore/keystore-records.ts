import { z } from 'zod';
import { SUITE_IDS, type PublicKeyPackage, type SuiteId } from '#crypto';
import { CeremonyParticipant, Element, Identifier, Scalar, hexBytes } from '#protocol';

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

/**
 * Inside a share export file: the share and the identity public key of the keystore that exported it,
 * encrypted and authenticated with it, so that an import can tell a backup made for another identity.
 * Exports written before it was recorded have none.
 */
export const ShareExportRecord = z.strictObject({ ...ShareRecord.shape, exportedBy: hexBytes(32).optional() });
export type ShareExportRecord = z.infer<typeof ShareExportRecord>;

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

/**
 * Inside a pending mark (`pending/<keyId>.pending`): the ceremony the unconfirmed share comes from and its
 * participants, so that the node can ask how it ended and check the answer's signatures after a restart.
 */
export const PendingRecord = z.strictObject({
  version: z.literal(KEYSTORE_FORMAT_VERSION),
  keyId: z.uuid(),
  ceremonyId: z.uuid(),
  participants: z.array(CeremonyParticipant).min(2),
});
export type PendingRecord = z.infer<typeof PendingRecord>;
/** The ceremony a pending mark records. */
export type PendingCeremony = Omit<PendingRecord, 'version' | 'keyId'>;
