import { z } from 'zod';
import { Element, Identifier, Text, Uuid, hexRange } from './primitives.js';
import { SUITE_IDS } from './suites.js';

/**
 * Distributed key generation (noble's DKG.round1/2/3) relayed by the coordinator, which holds no secret.
 *
 *   coordinator -> node   ceremony.start       the parameters and the participants (node id, identifier, identity key)
 *   node -> coordinator   ceremony.round1      its public round-1 package, signed with its identity key
 *   coordinator -> node   ceremony.round1.all  every participant's signed round-1 package (consistent broadcast)
 *   node -> coordinator   ceremony.round2      its signed transcript hash and one sealed round-2 share per other participant
 *   coordinator -> node   ceremony.round2.all  every participant's signed transcript hash and the sealed shares addressed to it
 *   node -> coordinator   ceremony.result      the group public key and verifying shares it derived, signed
 *   coordinator -> node   ceremony.closed      completed (with the registered key and every signed result) or failed (with the reason)
 *   node -> coordinator   ceremony.abort       the node stops the ceremony, naming the culprit where it can
 *   node -> coordinator   ceremony.query       how did this ceremony end? (a node that may have missed ceremony.closed)
 *
 * Every frame names its ceremony; every round-1 package is signed together with the ceremony id, because
 * noble's proof of knowledge alone does not bind the ceremony (an old package would verify). Every
 * participant signs its transcript hash and checks everyone else's, so that a coordinator cannot show two
 * participants different round-1 sets; the signed bytes are in #crypto (`ceremony-transcripts.ts`).
 */
const hex = hexRange;
/** Most participants a ceremony may have: every round's frames must fit in one 64 KiB frame. */
export const MAX_CEREMONY_PARTICIPANTS = 15;

export const CeremonyParticipant = z.strictObject({
  nodeId: Uuid,
  identifier: Identifier,
  /** The node's Ed25519 identity key: verifies its signed packages and receives its sealed shares. */
  identityKey: hex(32, 32),
});
export type CeremonyParticipant = z.infer<typeof CeremonyParticipant>;

/** noble's DKG_Round1 in hex: VSS commitment (t elements) and the proof of knowledge (a signature). */
export const Round1Package = z.strictObject({
  identifier: Identifier,
  commitment: z.array(Element).min(1).max(MAX_CEREMONY_PARTICIPANTS),
  proofOfKnowledge: hex(64, 114),
});
export type Round1Package = z.infer<typeof Round1Package>;

/** A round-1 package with the sender's identity signature over `ceremonyRound1Transcript(...)`. */
export const SignedRound1 = z.strictObject({
  package: Round1Package,
  signature: hex(64, 64),
});
export type SignedRound1 = z.infer<typeof SignedRound1>;

/**
 * One round-2 secret share sealed end to end from sender to recipient (X25519 from the identity keys,
 * HKDF-SHA256, XChaCha20-Poly1305; associated data binds ceremony, sender and recipient). The coordinator
 * relays it and cannot read it.
 */
export const SealedRound2 = z.strictObject({
  from: Identifier,
  to: Identifier,
  ephemeral: hex(32, 32),
  nonce: hex(24, 24),
  ciphertext: hex(16, 200),
});
export type SealedRound2 = z.infer<typeof SealedRound2>;

/** A participant's transcript hash with its identity signature over `ceremonyAgreementTranscript(...)`. */
export const SignedTranscriptHash = z.strictObject({
  identifier: Identifier,
  transcriptHash: hex(32, 32),
  signature: hex(64, 64),
});
export type SignedTranscriptHash = z.infer<typeof SignedTranscriptHash>;

/** One participant's identity signature over `ceremonyResultTranscript(...)` of the agreed result. */
export const ResultSignature = z.strictObject({
  identifier: Identifier,
  signature: hex(64, 64),
});
export type ResultSignature = z.infer<typeof ResultSignature>;

/** Why a node stops a ceremony (`ceremony.abort`); docs/protocol.md §13.8. */
export const CEREMONY_ABORT_CODES = [
  'BAD_PROOF',
  'BAD_SIGNATURE',
  'TRANSCRIPT_MISMATCH',
  'UNDECRYPTABLE_SHARE',
  'INVALID_SHARE',
  'NOT_A_PARTICIPANT',
  'PARAMETERS_REFUSED',
  'DEADLINE_PASSED',
  'STATE_LOST',
  'INTERNAL',
] as const;

const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ v: z.literal(1), type: z.literal(type), ...shape });

export const CeremonyStartFrame = frame('ceremony.start', {
  ceremonyId: Uuid,
  /** The id the key will have once registered; the node stores its share under it. */
  keyId: Uuid,
  suite: z.enum(SUITE_IDS),
  threshold: z.number().int().min(2).max(MAX_CEREMONY_PARTICIPANTS),
  participants: z.array(CeremonyParticipant).min(2).max(MAX_CEREMONY_PARTICIPANTS),
  deadline: z.number().int().nonnegative(),
});
export const CeremonyRound1AllFrame = frame('ceremony.round1.all', {
  ceremonyId: Uuid,
  /** One per participant, including the recipient's own, sorted by identifier value. */
  packages: z.array(SignedRound1).min(2).max(MAX_CEREMONY_PARTICIPANTS),
  deadline: z.number().int().nonnegative(),
});
export const CeremonyRound2AllFrame = frame('ceremony.round2.all', {
  ceremonyId: Uuid,
  /** The transcript hash every participant reported; the node checks it equals its own. */
  transcriptHash: hex(32, 32),
  /** Every participant's signed transcript hash (its own included), sorted by identifier value. */
  transcripts: z.array(SignedTranscriptHash).min(2).max(MAX_CEREMONY_PARTICIPANTS),
  /** The sealed shares addressed to this node, one from each other participant. */
  shares: z.array(SealedRound2).min(1).max(MAX_CEREMONY_PARTICIPANTS),
  deadline: z.number().int().nonnegative(),
});
/**
 * The ceremony ended. `completed` carries the key as registered and every participant's signature over
 * that same result (they all agreed, so the result is sent once): the node confirms its share only when
 * the key is the one it derived and every signature verifies. `failed` carries the reason. Sent to every
 * participant when the ceremony ends, and again to one that asks (`ceremony.query`).
 */
export const CeremonyClosedFrame = frame('ceremony.closed', {
  ceremonyId: Uuid,
  status: z.enum(['completed', 'failed']),
  /** Present when completed (and below). */
  keyId: Uuid.optional(),
  /** The registered group key, in the suite's standard encoding. */
  groupPublicKey: Element.optional(),
  commitments: z.array(Element).min(1).max(MAX_CEREMONY_PARTICIPANTS).optional(),
  verifyingShares: z.record(Identifier, Element).optional(),
  /** One per participant, sorted by identifier value. */
  resultSignatures: z.array(ResultSignature).min(2).max(MAX_CEREMONY_PARTICIPANTS).optional(),
  /** Present when failed: `"<code>: <reason>"`. */
  reason: Text(500).optional(),
});

export const CeremonyRound1Frame = frame('ceremony.round1', {
  ceremonyId: Uuid,
  round1: SignedRound1,
});
export const CeremonyRound2Frame = frame('ceremony.round2', {
  ceremonyId: Uuid,
  /** sha256 of `ceremonyTranscript(...)` over every signed round-1 package the node received. */
  transcriptHash: hex(32, 32),
  /** The node's identity signature over `ceremonyAgreementTranscript({ceremonyId, identifier, transcriptHash})`. */
  transcriptSignature: hex(64, 64),
  shares: z.array(SealedRound2).min(1).max(MAX_CEREMONY_PARTICIPANTS),
});
/** What the node derived in round 3, signed with its identity key over `ceremonyResultTranscript(...)`. */
export const CeremonyResultFrame = frame('ceremony.result', {
  ceremonyId: Uuid,
  groupPublicKey: Element,
  /** The VSS commitment of the group (noble's public package `commitments`). */
  commitments: z.array(Element).min(1).max(MAX_CEREMONY_PARTICIPANTS),
  verifyingShares: z.record(Identifier, Element),
  signature: hex(64, 64),
});
export const CeremonyAbortFrame = frame('ceremony.abort', {
  ceremonyId: Uuid,
  code: z.enum(CEREMONY_ABORT_CODES),
  reason: Text(500),
  /** The participant the node holds responsible, when it can tell. */
  culprit: Identifier.optional(),
});
/**
 * The node asks how a ceremony ended (it holds a share of it it has not seen confirmed, after a restart or
 * a reconnect). The coordinator answers `ceremony.closed` when the ceremony is over, then `ack`.
 */
export const CeremonyQueryFrame = frame('ceremony.query', {
  ceremonyId: Uuid,
});

export type CeremonyStartFrame = z.infer<typeof CeremonyStartFrame>;
export type CeremonyRound1AllFrame = z.infer<typeof CeremonyRound1AllFrame>;
export type CeremonyRound2AllFrame = z.infer<typeof CeremonyRound2AllFrame>;
export type CeremonyClosedFrame = z.infer<typeof CeremonyClosedFrame>;
export type CeremonyRound1Frame = z.infer<typeof CeremonyRound1Frame>;
export type CeremonyRound2Frame = z.infer<typeof CeremonyRound2Frame>;
export type CeremonyResultFrame = z.infer<typeof CeremonyResultFrame>;
export type CeremonyAbortFrame = z.infer<typeof CeremonyAbortFrame>;
export type CeremonyQueryFrame = z.infer<typeof CeremonyQueryFrame>;
