import { z } from 'zod';
import { ErrorCodes, RefusalCodes } from './error-codes.js';
import { MAX_MESSAGE_BYTES, MAX_SIGNERS } from './limits.js';
import { EpochMs, Element, Identifier, Scalar, Text, Uuid, hexBytes, hexUpTo } from './primitives.js';
import { SUITE_IDS } from './suites.js';
import { Intent, SignedDecision } from './intent.js';
import {
  CeremonyAbortFrame,
  CeremonyClosedFrame,
  CeremonyQueryFrame,
  CeremonyResultFrame,
  CeremonyRound1AllFrame,
  CeremonyRound1Frame,
  CeremonyRound2AllFrame,
  CeremonyRound2Frame,
  CeremonyStartFrame,
} from './ceremony-frames.js';
import { AuditCheckpointFrame, AuditCosignatureFrame, AuditRefusedFrame } from './audit-frames.js';
import { GrantAwaitingFrame, GrantDecisionFrame, GrantProposeFrame, GrantRevokeFrame, GrantRevokedFrame, RequestGrant } from './grant-frames.js';

/** The wire protocol's version; every frame carries it as `v`. */
export const PROTOCOL_VERSION = 1 as const;

export const SuiteId = z.enum(SUITE_IDS);
export type SuiteId = z.infer<typeof SuiteId>;

/** One signer's public nonce commitment (RFC 9591 §5.1), hex-encoded. */
export const NonceCommitment = z.strictObject({
  identifier: Identifier,
  hiding: Element,
  binding: Element,
});
export type NonceCommitment = z.infer<typeof NonceCommitment>;

const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), type: z.literal(type), ...shape });

// ---------- coordinator -> node ----------

/** First frame on every connection: the node must sign it to prove its identity. */
export const AuthChallengeFrame = frame('auth.challenge', {
  coordinatorId: Text(128).min(1),
  challenge: hexBytes(32),
  expiresAt: EpochMs,
});
/** The node is authenticated; every later frame on this connection is attributed to `nodeId`. */
export const AuthOkFrame = frame('auth.ok', {
  nodeId: Uuid,
  label: Text(200),
});
/**
 * A signing request the node may take part in: the whole intent, from which the node derives the bytes
 * it would sign (libs/intent `signedBytes`) and recomputes `intentHash` itself. The node answers
 * `request.commit` (approved), `request.decline`, or `request.awaiting` (its operator decides).
 */
export const RequestProposeFrame = frame('request.propose', {
  requestId: Uuid,
  suite: SuiteId,
  threshold: z.number().int().min(1).max(MAX_SIGNERS),
  intent: Intent,
  /** The coordinator's hash of `intent`; a node that computes another one refuses (INTENT_MISMATCH). */
  intentHash: hexBytes(32),
  /** For a request under a session-key grant: the grant, its hash and the agent's signed authorization. */
  grant: RequestGrant.optional(),
});
/** Round two: sign `message` with the nonce behind your commitment in `commitments`. */
export const AttemptPackageFrame = frame('attempt.package', {
  requestId: Uuid,
  attemptId: Uuid,
  keyId: Uuid,
  /** The bytes to sign, hex: the digest the intent's payload derives; a node refuses any other. */
  message: hexUpTo(MAX_MESSAGE_BYTES),
  /** Sorted ascending by identifier value (RFC 9591 §4.3). */
  commitments: z.array(NonceCommitment).min(1).max(MAX_SIGNERS),
  deadline: EpochMs,
});
/** The attempt ended without the node's share being needed (timeout, another signer failed): burn the nonce. */
export const AttemptAbortFrame = frame('attempt.abort', {
  requestId: Uuid,
  attemptId: Uuid,
  reason: Text(500),
});
/** The request is over; the node discards every nonce it still holds for it. */
export const RequestClosedFrame = frame('request.closed', {
  requestId: Uuid,
  status: z.enum(['completed', 'failed', 'expired', 'cancelled']),
  reason: Text(500).optional(),
});
/** A node frame was accepted (also sent again, unchanged, for an exact duplicate). */
export const AckFrame = frame('ack', {
  of: z.enum([
    'request.commit',
    'request.decline',
    'request.awaiting',
    'attempt.share',
    'attempt.refuse',
    'ceremony.round1',
    'ceremony.round2',
    'ceremony.result',
    'ceremony.abort',
    'ceremony.query',
    'audit.cosignature',
    'audit.refused',
    'grant.decision',
    'grant.awaiting',
    'grant.revoke',
  ]),
  requestId: Uuid.optional(),
  attemptId: Uuid.optional(),
  ceremonyId: Uuid.optional(),
  grantId: Uuid.optional(),
});
/** A node frame was refused. The connection stays open unless a close frame follows. */
export const ErrorFrame = frame('error', {
  code: z.enum(ErrorCodes),
  message: Text(1000),
  /** The `type` of the refused frame, when it could be read. */
  inReplyTo: Text(64).optional(),
  requestId: Uuid.optional(),
  attemptId: Uuid.optional(),
  ceremonyId: Uuid.optional(),
  grantId: Uuid.optional(),
});

// ---------- node -> coordinator ----------

/**
 * Ed25519 signature over `authTranscript(coordinatorId, challenge, policyHash)` by the node's identity key.
 * `policyHash`: the SHA-256 of the node's policy document as loaded (informational, shown on the node's
 * REST view); optional, so that a node built before it existed still authenticates.
 */
export const AuthResponseFrame = frame('auth.response', {
  publicKey: hexBytes(32),
  signature: hexBytes(64),
  policyHash: hexBytes(32).optional(),
});
/**
 * The node accepts the proposal and offers a fresh nonce commitment for the request's next attempt.
 * (The attempt is not known yet: the coordinator assigns commitments to attempts when t are in.)
 */
export const RequestCommitFrame = frame('request.commit', {
  requestId: Uuid,
  commitment: NonceCommitment,
  /** The node's signed approval of the intent (verdict `approve`); the coordinator verifies it first. */
  decision: SignedDecision,
});
/**
 * The node will not sign this request. A decline its policy or operator decided (POLICY_DENIED,
 * OPERATOR_REJECTED) carries the signed decision (verdict `decline`); a technical one (KEY_NOT_HELD,
 * INTENT_MISMATCH, ...) carries none.
 */
export const RequestDeclineFrame = frame('request.decline', {
  requestId: Uuid,
  code: z.enum(RefusalCodes),
  reason: Text(500),
  decision: SignedDecision.optional(),
});
/** The node's policy answered `ask`: the proposal waits for its operator. No nonce is committed meanwhile. */
export const RequestAwaitingFrame = frame('request.awaiting', {
  requestId: Uuid,
  intentHash: hexBytes(32),
  policyHash: hexBytes(32),
  rule: Text(200).nullable(),
  reason: Text(500),
});
/** The node's signature share for an attempt, plus optionally a fresh commitment for a later attempt. */
export const AttemptShareFrame = frame('attempt.share', {
  requestId: Uuid,
  attemptId: Uuid,
  share: Scalar,
  nextCommitment: NonceCommitment.optional(),
});
/** The node refuses a signing package it finds wrong; it did not sign. */
export const AttemptRefuseFrame = frame('attempt.refuse', {
  requestId: Uuid,
  attemptId: Uuid,
  code: z.enum(RefusalCodes),
  reason: Text(500),
});

export const CoordinatorFrame = z.discriminatedUnion('type', [
  AuthChallengeFrame,
  AuthOkFrame,
  RequestProposeFrame,
  AttemptPackageFrame,
  AttemptAbortFrame,
  RequestClosedFrame,
  AckFrame,
  ErrorFrame,
  CeremonyStartFrame,
  CeremonyRound1AllFrame,
  CeremonyRound2AllFrame,
  CeremonyClosedFrame,
  GrantProposeFrame,
  GrantRevokedFrame,
  AuditCheckpointFrame,
]);
export type CoordinatorFrame = z.infer<typeof CoordinatorFrame>;

export const NodeFrame = z.discriminatedUnion('type', [
  AuthResponseFrame,
  RequestCommitFrame,
  RequestDeclineFrame,
  RequestAwaitingFrame,
  AttemptShareFrame,
  AttemptRefuseFrame,
  CeremonyRound1Frame,
  CeremonyRound2Frame,
  CeremonyResultFrame,
  CeremonyAbortFrame,
  CeremonyQueryFrame,
  GrantDecisionFrame,
  GrantAwaitingFrame,
  GrantRevokeFrame,
  AuditCosignatureFrame,
  AuditRefusedFrame,
]);
export type NodeFrame = z.infer<typeof NodeFrame>;

export type AuthChallengeFrame = z.infer<typeof AuthChallengeFrame>;
export type AuthOkFrame = z.infer<typeof AuthOkFrame>;
export type RequestProposeFrame = z.infer<typeof RequestProposeFrame>;
export type AttemptPackageFrame = z.infer<typeof AttemptPackageFrame>;
export type AttemptAbortFrame = z.infer<typeof AttemptAbortFrame>;
export type RequestClosedFrame = z.infer<typeof RequestClosedFrame>;
export type AckFrame = z.infer<typeof AckFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type AuthResponseFrame = z.infer<typeof AuthResponseFrame>;
export type RequestCommitFrame = z.infer<typeof RequestCommitFrame>;
export type RequestDeclineFrame = z.infer<typeof RequestDeclineFrame>;
export type RequestAwaitingFrame = z.infer<typeof RequestAwaitingFrame>;
export type AttemptShareFrame = z.infer<typeof AttemptShareFrame>;
export type AttemptRefuseFrame = z.infer<typeof AttemptRefuseFrame>;

/** Frames without the `v` field, as code builds them; `encodeFrame` adds it. */
export type Outgoing<F extends { v: number }> = F extends unknown ? Omit<F, 'v'> : never;
