import type { NodeDecisionFields } from '../records.js';

/** What a node signs of a decision, whatever it decides on (SignedDecision, SignedGrantDecision). */
export interface SignedDecisionFields {
  verdict: 'approve' | 'decline';
  by: 'policy' | 'operator';
  policyHash: string;
  rule: string | null;
  reason: string;
  /** Epoch ms, as signed. */
  decidedAt: number;
  signature: string;
}

/** The row of a checked decision (a request's or a grant's), keeping when it was proposed and awaited. */
export const decidedFields = (nodeId: string, d: SignedDecisionFields, earlier: NodeDecisionFields | null, now: Date): NodeDecisionFields => ({
  nodeId,
  verdict: d.verdict,
  by: d.by,
  policyHash: d.policyHash,
  rule: d.rule,
  reason: d.reason,
  decidedAt: new Date(d.decidedAt),
  signature: d.signature,
  proposedAt: earlier?.proposedAt ?? null,
  awaitingSince: earlier?.awaitingSince ?? null,
  receivedAt: now,
});

/** The row of a node that was proposed the subject and has not answered: nothing decided. */
export const proposedFields = (nodeId: string, at: Date): NodeDecisionFields => ({
  nodeId,
  verdict: null,
  by: null,
  policyHash: null,
  rule: null,
  reason: null,
  decidedAt: null,
  signature: null,
  proposedAt: at,
  awaitingSince: null,
  receivedAt: at,
});

/** The row of a node whose operator decides (its awaiting notice: policy hash, rule, reason). */
export const awaitingFields = (
  nodeId: string,
  notice: { policyHash: string; rule: string | null; reason: string },
  earlier: NodeDecisionFields | null,
  now: Date,
): NodeDecisionFields => ({
  nodeId,
  verdict: null,
  by: null,
  policyHash: notice.policyHash,
  rule: notice.rule,
  reason: notice.reason,
  decidedAt: null,
  signature: null,
  proposedAt: earlier?.proposedAt ?? null,
  awaitingSince: now,
  receivedAt: now,
});

/** A stored row's decision as the node signed it, or null for a row that has none (proposed, awaiting). */
export function signedFieldsOf(r: NodeDecisionFields): SignedDecisionFields | null {
  if (r.verdict === null || r.by === null || r.decidedAt === null || r.signature === null || r.policyHash === null || r.reason === null) return null;
  return { verdict: r.verdict, by: r.by, policyHash: r.policyHash, rule: r.rule, reason: r.reason, decidedAt: r.decidedAt.getTime(), signature: r.signature };
}
