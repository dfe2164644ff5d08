import { z } from 'zod';
import { ErrorCodes, RefusalCodes } from './error-codes.js';
import { MAX_MESSAGE_BYTES, MAX_SIGNERS } from './limits.js';
import { EpochMs, Element, Identifier, Scalar, Text, Uuid, hexBytes, hexUpTo } from './primitives.js';
import { SUITE_IDS } from './suites.js';
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
/** A signing request the node may take part in. The node answers `request.commit` or `request.decline`. */
export const RequestProposeFrame = frame('request.propose', {
  requestId: Uuid,
  keyId: Uuid,
  suite: SuiteId,
  threshold: z.number().int().min(1).max(MAX_SIGNERS),
  /** The exact bytes to sign, hex. */
  message: hexUpTo(MAX_MESSAGE_BYTES),
  messageEncoding: z.enum(['hex', 'utf8']),
  description: Text(2000),
  deadline: EpochMs,
});
/** Round two: sign `message` with the nonce behind your commitment in `commitments`. */
export const AttemptPackageFrame = frame('attempt.package', {
  requestId: Uuid,
  attemptId: Uuid,
  keyId: Uuid,
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
  status: z.enum(['completed', 'failed', 'expired']),
  reason: Text(500).optional(),
});
/** A node frame was accepted (also sent again, unchanged, for an exact duplicate). */
export const AckFrame = frame('ack', {
  of: z.enum([
    'request.commit',
    'request.decline',
    'attempt.share',
    'attempt.refuse',
    'ceremony.round1',
    'ceremony.round2',
    'ceremony.result',
    'ceremony.abort',
    'ceremony.query',
  ]),
  requestId: Uuid.optional(),
  attemptId: Uuid.optional(),
  ceremonyId: Uuid.optional(),
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
});

// ---------- node -> coordinator ----------

/** Ed25519 signature over `authTranscript(coordinatorId, challenge)` by the node's identity key. */
export const AuthResponseFrame = frame('auth.response', {
  publicKey: hexBytes(32),
  signature: hexBytes(64),
});
/**
 * The node accepts the proposal and offers a fresh nonce commitment for the request's next attempt.
 * (The attempt is not known yet: the coordinator assigns commitments to attempts when t are in.)
 */
export const RequestCommitFrame = frame('request.commit', {
  requestId: Uuid,
  commitment: NonceCommitment,
});
/** The node will not sign this request (its operator's rule said no, it does not hold the key, ...). */
export const RequestDeclineFrame = frame('request.decline', {
  requestId: Uuid,
  code: z.enum(RefusalCodes),
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
]);
export type CoordinatorFrame = z.infer<typeof CoordinatorFrame>;

export const NodeFrame = z.discriminatedUnion('type', [
  AuthResponseFrame,
  RequestCommitFrame,
  RequestDeclineFrame,
  AttemptShareFrame,
  AttemptRefuseFrame,
  CeremonyRound1Frame,
  CeremonyRound2Frame,
  CeremonyResultFrame,
  CeremonyAbortFrame,
  CeremonyQueryFrame,
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
export type AttemptShareFrame = z.infer<typeof AttemptShareFrame>;
export type AttemptRefuseFrame = z.infer<typeof AttemptRefuseFrame>;

/** Frames without the `v` field, as code builds them; `encodeFrame` adds it. */
export type Outgoing<F extends { v: number }> = F extends unknown ? Omit<F, 'v'> : never;
