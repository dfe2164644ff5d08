import { describeScope, grantUsage, type GrantUsage } from '#intent';
import type { SignedGrantDecision } from '#protocol';
import { DomainError } from '../errors.js';
import type { Repositories } from '../ports.js';
import type { GrantDecisionRecord, GrantRecord, GrantStatus, KeyRecord, RequestStatus } from '../records.js';
import { countedRequests, effectiveStatus, signedGrantDecisionOf } from './grant-rules.js';

export type GrantApprovalState = 'pending' | 'proposed' | 'awaiting_operator' | 'approved' | 'declined';

export interface GrantApprovalView {
  nodeId: string;
  label: string;
  state: GrantApprovalState;
  decision: SignedGrantDecision | null;
  awaiting: { rule: string | null; reason: string; since: Date } | null;
}

/** A grant as the API shows it: its effective status, approvals, usage and requests. */
export interface GrantView {
  grant: GrantRecord;
  /** The stored status, or `expired` once validUntil passed. */
  status: GrantStatus;
  scopeText: string[];
  threshold: number;
  members: number;
  approvals: GrantApprovalView[];
  usage: GrantUsage;
  requests: { id: string; status: RequestStatus; createdAt: Date }[];
}

export interface GrantListFilter {
  status?: GrantStatus;
  keyId?: string;
  proposer?: string;
  limit: number;
  offset: number;
}

export async function loadGrantView(repos: Repositories, grantId: string, scope: { proposer?: string }): Promise<GrantView> {
  const grant = await repos.grants.findById(grantId);
  if (!grant || (scope.proposer !== undefined && grant.proposer !== scope.proposer)) throw new DomainError('GRANT_NOT_FOUND', `grant ${grantId} not found`);
  return (await viewsOf(repos, [grant]))[0]!;
}

/** A page of grants, newest first. A status filter matches the stored status (an expired grant may still read `active` there). */
export async function loadGrantViews(repos: Repositories, filter: GrantListFilter): Promise<GrantView[]> {
  return viewsOf(repos, await repos.grants.list(filter));
}

async function viewsOf(repos: Repositories, grants: readonly GrantRecord[]): Promise<GrantView[]> {
  if (grants.length === 0) return [];
  const keys = await repos.keys.findByIds([...new Set(grants.map((g) => g.keyId))]);
  const keyOf = new Map(keys.map((k) => [k.id, k]));
  const nodeIds = [...new Set(keys.flatMap((k) => k.members.map((m) => m.nodeId)))];
  const labelOf = new Map((await repos.nodes.listByIds(nodeIds)).map((n) => [n.id, n.label]));
  const rows = await repos.grants.listDecisions(grants.map((g) => g.id));
  const rowOf = new Map(rows.map((r) => [`${r.grantId}/${r.nodeId}`, r]));
  const now = Date.now();
  const views: GrantView[] = [];
  for (const grant of grants) {
    const key: KeyRecord | undefined = keyOf.get(grant.keyId);
    const requests = await repos.grants.listRequests(grant.id);
    views.push({
      grant,
      status: effectiveStatus(grant, now),
      scopeText: describeScope(grant.grant),
      threshold: key?.threshold ?? 0,
      members: key?.members.length ?? 0,
      approvals: (key?.members ?? []).map((m) => ({ nodeId: m.nodeId, label: labelOf.get(m.nodeId) ?? '', ...approvalOf(grant, rowOf.get(`${grant.id}/${m.nodeId}`)) })),
      usage: grantUsage(grant.grant, countedRequests(requests), now),
      requests: requests.map((r) => ({ id: r.id, status: r.status, createdAt: r.createdAt })),
    });
  }
  return views;
}

function approvalOf(grant: GrantRecord, row: GrantDecisionRecord | undefined): Pick<GrantApprovalView, 'state' | 'decision' | 'awaiting'> {
  const decision = row ? signedGrantDecisionOf(row, grant.grantHash) : null;
  if (decision) return { state: decision.verdict === 'approve' ? 'approved' : 'declined', decision, awaiting: null };
  if (row?.awaitingSince) return { state: 'awaiting_operator', decision: null, awaiting: { rule: row.rule, reason: row.reason ?? '', since: row.awaitingSince } };
  return { state: row?.proposedAt ? 'proposed' : 'pending', decision: null, awaiting: null };
}
