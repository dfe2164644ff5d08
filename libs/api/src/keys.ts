import { z } from 'zod';
import { Element, EvmAddress, Identifier, KEY_STATUSES, SuiteId, Uuid, hexRange } from '#protocol';
import { Timestamp } from './common.js';

export const KeyStatus = z.enum(KEY_STATUSES);
export type KeyStatus = z.infer<typeof KeyStatus>;

/** `POST /v1/keys`: the public package of a trusted-dealer key (never a secret share). */
export const RegisterKeyBody = z.strictObject({
  id: Uuid.optional(),
  suite: SuiteId,
  threshold: z.number().int().min(2).max(255),
  maxSigners: z.number().int().min(2).max(255),
  commitments: z.array(Element).min(2).max(255),
  verifyingShares: z.record(Identifier, Element),
  members: z.array(z.strictObject({ nodeId: Uuid, identifier: Identifier })).min(2).max(255),
});
export type RegisterKeyBody = z.infer<typeof RegisterKeyBody>;

export const KeyMemberResponse = z.object({
  nodeId: Uuid,
  identifier: Identifier,
  verifyingShare: Element,
});

/** A 32-byte EVM word, 0x-prefixed. */
export const EvmWord = z.string().regex(/^0x[0-9a-f]{64}$/, '0x-prefixed 32-byte word');

/**
 * What a contract needs of a `secp256k1` key (libs/evm): whether the ecrecover check can verify its
 * signatures (x below the curve order), the address the verifier derives from it, and its coordinates
 * (FrostEip1271Signer's constructor arguments). docs/protocol.md section 11.
 */
export const EvmKeyResponse = z.object({
  usable: z.boolean(),
  /** Why not, when `usable` is false. */
  reason: z.string().nullable(),
  /** keccak256(x ‖ y)[12:], checksummed. */
  address: EvmAddress,
  x: EvmWord,
  y: EvmWord,
});
export type EvmKeyResponse = z.infer<typeof EvmKeyResponse>;

/** `GET /v1/keys/:id`, `POST /v1/keys`, `POST /v1/keys/:id/retire`. */
export const KeyResponse = z.object({
  id: Uuid,
  suite: SuiteId,
  threshold: z.number().int(),
  maxSigners: z.number().int(),
  /** The suite's standard encoding (x-only for secp256k1-tr). */
  groupPublicKey: hexRange(32, 57),
  /** In identifier order. */
  members: z.array(KeyMemberResponse),
  /** The VSS commitment; `commitments[0]` is the group key as a group element. */
  commitments: z.array(Element),
  status: KeyStatus,
  /** `dealer`, or `ceremony:<ceremonyId>` for a key made by a ceremony. */
  origin: z.string().regex(/^(?:dealer|ceremony:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, 'dealer or ceremony:<id>'),
  createdAt: Timestamp,
  /** For a `secp256k1` key (FROST(secp256k1, SHA-256)); null for every other suite, `secp256k1-tr` included. */
  evm: EvmKeyResponse.nullable(),
});
export type KeyResponse = z.infer<typeof KeyResponse>;

/** `GET /v1/keys`: in registration order. */
export const KeyListResponse = z.array(KeyResponse);
export type KeyListResponse = z.infer<typeof KeyListResponse>;
