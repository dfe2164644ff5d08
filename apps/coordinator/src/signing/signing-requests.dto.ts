import { z } from 'zod';
import { REQUEST_STATUSES, type RequestView } from '#domain';
import { MAX_MESSAGE_BYTES } from '#protocol';

export const CreateSigningRequestDto = z.strictObject({
  keyId: z.uuid(),
  message: z.string().min(1).max(MAX_MESSAGE_BYTES * 2 + 2),
  encoding: z.enum(['hex', 'utf8']).default('utf8'),
  description: z.string().max(2000).default(''),
  deadline: z.iso.datetime({ offset: true }).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

export const ListSigningRequestsQuery = z.strictObject({
  status: z.enum(REQUEST_STATUSES).optional(),
  keyId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const GetSigningRequestQuery = z.strictObject({
  waitMs: z.coerce.number().int().min(0).max(60_000).default(0),
});

export const toSigningRequestDto = ({ request, attempts, groupPublicKey, suite }: RequestView) => ({
  id: request.id,
  keyId: request.keyId,
  suite,
  status: request.status,
  message: request.message,
  messageEncoding: request.messageEncoding,
  description: request.description,
  deadline: request.deadline.toISOString(),
  idempotencyKey: request.idempotencyKey,
  createdAt: request.createdAt.toISOString(),
  updatedAt: request.updatedAt.toISOString(),
  completedAt: request.completedAt?.toISOString() ?? null,
  attempts: attempts.map((a) => ({
    id: a.id,
    seq: a.seq,
    status: a.status,
    participants: a.participants,
    commitments: a.commitments,
    startedAt: a.startedAt.toISOString(),
    deadline: a.deadline.toISOString(),
    endedAt: a.endedAt?.toISOString() ?? null,
    failureReason: a.failureReason,
  })),
  failure:
    request.failureCode !== null
      ? { code: request.failureCode, reason: request.failureReason, culprits: request.culprits }
      : null,
  culprits: request.culprits,
  signature: request.signature,
  groupPublicKey: groupPublicKey || null,
});
