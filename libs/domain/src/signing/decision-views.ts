import type { NODE_DECISION_STATES, SignedDecision } from '#protocol';
import type { Repositories } from '../ports.js';
import type { DecisionRecord, KeyRecord, SigningRequestRecord } from '../records.js';
import { signedDecisionOf } from './decision-steps.js';

export type NodeDecisionState = (typeof NODE_DECISION_STATES)[number];

/** Where one member of a request's key stands on it, as the coordinator knows it. */
export interface DecisionView {
  nodeId: string;
  label: string;
  state: NodeDecisionState;
  /** The node's signed decision once it made one (approved or declined). */
  decision: SignedDecision | null;
  /** Set while the node waits for its operator (state `awaiting_operator`). */
  awaiting: { rule: string | null; reason: string; since: Date } | null;
}

/** One page row: a request and its key (null when the key is gone, which a foreign key forbids). */
export interface DecisionViewSubject {
  request: SigningRequestRecord;
  key: KeyRecord | null;
}

/**
 * Every member of the request's key, in the key's member order, with its state on the request: from the
 * request's culprits (`declined`, or `excluded` for any other reason) first, then the node's row in
 * request_decisions (`approved`, `awaiting_operator`, `proposed`), else `pending`.
 */
export async function loadDecisionViews(repos: Repositories, request: SigningRequestRecord, key: KeyRecord | null): Promise<DecisionView[]> {
  return (await loadDecisionViewsOfPage(repos, [{ request, key }])).get(request.id) ?? [];
}

/**
 * `loadDecisionViews` for a whole page of requests, by request id, in a constant number of reads
 * whatever the page size (list endpoints must not query once per row).
 */
export async function loadDecisionViewsOfPage(repos: Repositories, subjects: readonly DecisionViewSubject[]): Promise<Map<string, DecisionView[]>> {
  const nodeIds = [...new Set(subjects.flatMap((s) => s.key?.members.map((m) => m.nodeId) ?? []))];
  const nodes = nodeIds.length === 0 ? [] : await repos.nodes.listByIds(nodeIds);
  const labelOf = new Map(nodes.map((n) => [n.id, n.label]));
  const rows = subjects.length === 0 ? [] : await repos.decisions.listForRequests(subjects.map((s) => s.request.id));
  const rowOf = new Map(rows.map((r) => [`${r.requestId}/${r.nodeId}`, r]));
  return new Map(
    subjects.map(({ request, key }) => [
      request.id,
      (key?.members ?? []).map((m) => ({ nodeId: m.nodeId, label: labelOf.get(m.nodeId) ?? '', ...standing(request, m.nodeId, rowOf.get(`${request.id}/${m.nodeId}`)) })),
    ]),
  );
}

/** One member's state on the request, with its signed decision or its wait for its operator. */
export function standing(request: SigningRequestRecord, nodeId: string, row: DecisionRecord | undefined): Pick<DecisionView, 'state' | 'decision' | 'awaiting'> {
  const decision = row && request.intentHash !== null ? signedDecisionOf(row, request.intentHash) : null;
  const culprit = request.culprits.find((c) => c.nodeId === nodeId);
  if (culprit) return { state: culprit.reason === 'declined' ? 'declined' : 'excluded', decision, awaiting: null };
  if (decision) return { state: decision.verdict === 'approve' ? 'approved' : 'declined', decision, awaiting: null };
  if (row?.awaitingSince) return { state: 'awaiting_operator', decision: null, awaiting: { rule: row.rule, reason: row.reason ?? '', since: row.awaitingSince } };
  return { state: row?.proposedAt ? 'proposed' : 'pending', decision: null, awaiting: null };
}
