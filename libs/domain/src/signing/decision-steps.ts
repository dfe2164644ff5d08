import { verifyDecision } from '#intent';
import type { RequestAwaitingFrame, SignedDecision } from '#protocol';
import { DomainError } from '../errors.js';
import { awaitingFields, decidedFields, signedFieldsOf } from '../common/node-decisions.js';
import type { DecisionRecord } from '../records.js';
import type { RequestEvent } from './request-event.js';

/**
 * The steps of an event that concern nodes' decisions (issue 9): a signed approval on `request.commit`,
 * a signed decline on `request.decline`, a wait for the operator (`request.awaiting`). A decision counts
 * only once it is checked against the request and the node's identity key; it is then kept durably
 * (request_decisions) and in the audit log, whole, with the key, so that an auditor can check offline
 * who approved what.
 */

export type Verdict = SignedDecision['verdict'];

/** What a decision is checked against: the request, the verdict its frame implies, the sender's identity key. */
export interface DecisionContext {
  requestId: string;
  intentHash: string | null;
  verdict: Verdict;
  /** The sender's identity public key (hex), from the nodes table. */
  publicKey: string | undefined;
  /** The sender's row for the request, if it has one. */
  earlier: DecisionRecord | null;
}

/**
 * Why `d` cannot count as the sender's decision, or null when it can. Pure (for table tests); checked in
 * this order: the request, the intent, the verdict, the signature, and a first decision that stands.
 */
export function decisionProblem(d: SignedDecision, ctx: DecisionContext): string | null {
  if (d.requestId !== ctx.requestId) return `the decision is for request ${d.requestId}, not ${ctx.requestId}`;
  if (ctx.intentHash === null) return 'this request has no intent hash: it cannot be decided on';
  if (d.intentHash !== ctx.intentHash) return `the decision is for intent ${d.intentHash}, not this request's ${ctx.intentHash}`;
  if (d.verdict !== ctx.verdict) return `the frame needs a decision with verdict ${ctx.verdict}, not ${d.verdict}`;
  if (ctx.publicKey === undefined || !verifyDecision(ctx.publicKey, d)) return "the decision's signature does not verify under the node's identity key";
  const first = ctx.earlier?.verdict;
  if (first && first !== d.verdict) return `the node already decided ${first} on this request; its first decision stands`;
  return null;
}

/** The stored form of a checked decision. */
export const decisionRecord = (nodeId: string, d: SignedDecision, earlier: DecisionRecord | null, now: Date): DecisionRecord => ({
  requestId: d.requestId,
  ...decidedFields(nodeId, d, earlier, now),
});

/**
 * A stored decision as the node signed it (null for a row that only awaits the operator). The intent
 * hash is the request's: a decision for any other is never stored.
 */
export function signedDecisionOf(r: DecisionRecord, intentHash: string): SignedDecision | null {
  const signed = signedFieldsOf(r);
  return signed && { requestId: r.requestId, intentHash, ...signed };
}

const node = (id: string) => ({ kind: 'node' as const, id });

/** Refuses the frame (DECISION_INVALID) while its audit entry still commits; nothing else of it is applied. */
export function refuseDecision(ev: RequestEvent, nodeId: string, frameType: string, problem: string, decision: SignedDecision | undefined): void {
  ev.audit(node(nodeId), 'decision.refused', 'failure', { frame: frameType, problem, decision: decision ?? null }, { nodeId });
  ev.reject(new DomainError('DECISION_INVALID', `decision refused: ${problem}`));
}

/**
 * Checks the decision a frame carries and, if the node had none yet, stores it and audits it
 * (`request.approved` / `request.declined` with the whole SignedDecision and the node's identity key).
 * False when it was refused: the caller applies nothing of the frame.
 */
export async function acceptDecision(
  ev: RequestEvent,
  nodeId: string,
  frameType: string,
  d: SignedDecision,
  verdict: Verdict,
  extra: Record<string, unknown> = {},
): Promise<boolean> {
  const { state } = ev;
  const earlier = state.decisions.get(nodeId) ?? null;
  const publicKey = state.identityKeys.get(nodeId);
  const problem = decisionProblem(d, { requestId: state.request.id, intentHash: state.request.intentHash, verdict, publicKey, earlier });
  if (problem) {
    refuseDecision(ev, nodeId, frameType, problem, d);
    return false;
  }
  // The first decision stands: a node that approves again (after a reconnect, say) changes nothing.
  if (earlier?.verdict) return true;
  const record = decisionRecord(nodeId, d, earlier, ev.now);
  await ev.tx.decisions.save(record);
  state.decisions.set(nodeId, record);
  ev.audit(node(nodeId), verdict === 'approve' ? 'request.approved' : 'request.declined', 'success', {
    ...extra,
    decision: d,
    identityKey: publicKey,
    ...(earlier?.awaitingSince ? { awaitedSince: earlier.awaitingSince.toISOString() } : {}),
  }, { nodeId });
  return true;
}

/**
 * The node's policy answered `ask`: it waits for its operator and commits no nonce meanwhile. Recorded
 * once per node and request (a repeat is a duplicate); refused when it names another intent or when the
 * node has already decided.
 */
export async function awaitOperator(ev: RequestEvent, nodeId: string, frame: RequestAwaitingFrame): Promise<'accepted' | 'duplicate' | 'refused'> {
  const { state } = ev;
  const problem =
    state.request.intentHash === null
      ? 'this request has no intent hash: it cannot be decided on'
      : frame.intentHash !== state.request.intentHash
        ? `the notice is for intent ${frame.intentHash}, not this request's ${state.request.intentHash}`
        : null;
  if (problem) {
    refuseDecision(ev, nodeId, frame.type, problem, undefined);
    return 'refused';
  }
  const earlier = state.decisions.get(nodeId) ?? null;
  if (earlier?.verdict) {
    refuseDecision(ev, nodeId, frame.type, `the node already decided ${earlier.verdict} on this request`, undefined);
    return 'refused';
  }
  if (earlier?.awaitingSince) return 'duplicate';
  const record = { requestId: state.request.id, ...awaitingFields(nodeId, frame, earlier, ev.now) };
  await ev.tx.decisions.save(record);
  state.decisions.set(nodeId, record);
  ev.audit(node(nodeId), 'request.awaiting_operator', 'success', { intentHash: frame.intentHash, policyHash: frame.policyHash, rule: frame.rule, reason: frame.reason }, { nodeId });
  return 'accepted';
}
