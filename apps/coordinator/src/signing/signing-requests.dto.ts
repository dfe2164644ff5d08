import type { SigningRequestResponse } from '#api';
import { SuiteId } from '#protocol';
import { messageTextOf, type RequestView } from '#domain';
export const toSigningRequestDto = ({ request, attempts, groupPublicKey, suite }: RequestView): SigningRequestResponse => ({
  id: request.id,
  keyId: request.keyId,
  // The view's suite is its key's (a foreign key guarantees the key), typed as a plain string.
  suite: SuiteId.parse(suite),
  status: request.status,
  message: request.message,
  messageText: messageTextOf(request),
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
    request.failureCode !== null ? { code: request.failureCode, reason: request.failureReason, culprits: request.culprits } : null,
  culprits: request.culprits,
  signature: request.signature,
  groupPublicKey: groupPublicKey || null,
});
