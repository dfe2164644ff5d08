import type { NodeDecisionResponse, SigningRequestResponse } from '#api';
import { summarizeIntent, summaryLine } from '#intent';
import { SuiteId } from '#protocol';
import { messageTextOf, type DecisionView, type RequestView } from '#domain';
import { evmSignatureView } from '#evm';

const toDecisionDto = (d: DecisionView): NodeDecisionResponse => ({
  nodeId: d.nodeId,
  label: d.label,
  state: d.state,
  decision: d.decision,
  awaiting: d.awaiting ? { rule: d.awaiting.rule, reason: d.awaiting.reason, since: d.awaiting.since.toISOString() } : null,
});

/** `safeOwner` (GET one request only) frames `evm.safeSignature` for that EIP-1271 owner contract. */
export const toSigningRequestDto = ({ request, attempts, groupPublicKey, suite, decisions }: RequestView, options: { safeOwner?: string } = {}): SigningRequestResponse => {
  const { intent } = request;
  const detail = summarizeIntent(intent, request.intentHash ?? '');
  return {
    id: request.id,
    keyId: request.keyId,
    // The view's suite is its key's (a foreign key guarantees the key), typed as a plain string.
    suite: SuiteId.parse(suite),
    status: request.status,
    payload: intent.payload,
    intent,
    intentHash: request.intentHash,
    digest: request.message,
    summary: summaryLine(intent),
    // A request made before intents has no intent hash (migration 0005): null, not an empty string.
    summaryDetail: { ...detail, hashes: { ...detail.hashes, intentHash: request.intentHash } },
    chainId: intent.chainId,
    sequence: intent.sequence,
    note: intent.note,
    proposer: request.proposer,
    decisions: decisions.map(toDecisionDto),
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
    evm: groupPublicKey ? evmSignatureView(suite, groupPublicKey, request.signature, options.safeOwner) : null,
  };
};
