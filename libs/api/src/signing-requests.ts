import { z } from 'zod';
import { ATTEMPT_STATUSES, CULPRIT_REASONS, MAX_MESSAGE_BYTES, NonceCommitment, REQUEST_STATUSES, SuiteId, Text, Uuid, hexRange, hexUpTo } from '#protocol';
import { IdParam, Timestamp, TimestampInput, pageQuery } from './common.js';

export const RequestStatus = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof RequestStatus>;

export const MessageEncoding = z.enum(['hex', 'utf8']);
export type MessageEncoding = z.infer<typeof MessageEncoding>;

export const AttemptStatus = z.enum(ATTEMPT_STATUSES);
export type AttemptStatus = z.infer<typeof AttemptStatus>;

export const CulpritReason = z.enum(CULPRIT_REASONS);
export type CulpritReason = z.infer<typeof CulpritReason>;

/** An idempotency key, in the body or the `Idempotency-Key` header (the body's wins). */
export const IdempotencyKey = Text(200).min(1);

/** `POST /v1/signing-requests`. */
export const CreateSigningRequestBody = z.strictObject({
  keyId: Uuid,
  /** Hex (optional `0x`, any case) or text, per `encoding`; the byte limits are the service's checks. */
  message: z
    .string()
    .min(1)
    .max(MAX_MESSAGE_BYTES * 2 + 2),
  encoding: MessageEncoding.default('utf8'),
  description: Text(2000).default(''),
  deadline: TimestampInput.optional(),
  /** The `Idempotency-Key` header is used when the body has none. */
  idempotencyKey: IdempotencyKey.optional(),
});
export type CreateSigningRequestBody = z.infer<typeof CreateSigningRequestBody>;

/** `GET /v1/signing-requests/:id?waitMs=`: wait up to `waitMs` for the request to be final. */
export const GetSigningRequestQuery = z.strictObject({
  waitMs: z.coerce.number().int().min(0).max(60_000).default(0),
});
export type GetSigningRequestQuery = z.infer<typeof GetSigningRequestQuery>;

/** `GET /v1/signing-requests?status=&keyId=&limit=&offset=`: newest first. */
export const ListSigningRequestsQuery = z.strictObject({
  status: RequestStatus.optional(),
  keyId: IdParam.optional(),
  ...pageQuery(500, 50),
});
export type ListSigningRequestsQuery = z.infer<typeof ListSigningRequestsQuery>;

/** A node excluded from a request, and why (docs/protocol.md section 5). */
export const CulpritResponse = z.object({
  nodeId: Uuid,
  reason: CulpritReason,
  attemptId: Uuid.optional(),
  detail: z.string().optional(),
});

export const AttemptResponse = z.object({
  id: Uuid,
  seq: z.number().int().min(1),
  status: AttemptStatus,
  /** Node ids in commitment-list order. */
  participants: z.array(Uuid),
  /** The signing package's commitment list (public), sorted by identifier value. */
  commitments: z.array(NonceCommitment),
  startedAt: Timestamp,
  deadline: Timestamp,
  endedAt: Timestamp.nullable(),
  failureReason: z.string().nullable(),
});
export type AttemptResponse = z.infer<typeof AttemptResponse>;

/** `GET /v1/signing-requests/:id`, `POST /v1/signing-requests`, and each row of the list. */
export const SigningRequestResponse = z.object({
  id: Uuid,
  keyId: Uuid,
  suite: SuiteId,
  status: RequestStatus,
  /** The exact bytes signed, hex (whatever the encoding). */
  message: hexUpTo(MAX_MESSAGE_BYTES),
  /** The same bytes as text when the request's encoding is utf8 and they decode strictly, else null. */
  messageText: z.string().nullable(),
  messageEncoding: MessageEncoding,
  description: z.string(),
  deadline: Timestamp,
  idempotencyKey: z.string().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  completedAt: Timestamp.nullable(),
  attempts: z.array(AttemptResponse),
  /** Set when the request failed or expired. */
  failure: z
    .object({
      code: z.string(),
      reason: z.string().nullable(),
      culprits: z.array(CulpritResponse),
    })
    .nullable(),
  culprits: z.array(CulpritResponse),
  /** The suite's signature encoding, once completed. */
  signature: hexRange(64, 114).nullable(),
  /** The suite's standard encoding (x-only for secp256k1-tr). */
  groupPublicKey: hexRange(32, 57).nullable(),
});
export type SigningRequestResponse = z.infer<typeof SigningRequestResponse>;

export const SigningRequestListResponse = z.array(SigningRequestResponse);
export type SigningRequestListResponse = z.infer<typeof SigningRequestListResponse>;
