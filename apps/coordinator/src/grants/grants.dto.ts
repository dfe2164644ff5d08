import type { GrantResponse } from '#api';
import type { GrantView } from '#domain';

const iso = (ms: number): string => new Date(ms).toISOString();

export const toGrantDto = (v: GrantView): GrantResponse => {
  const { grant: record, usage } = v;
  return {
    id: record.id,
    keyId: record.keyId,
    status: v.status,
    grant: record.grant,
    grantHash: record.grantHash,
    scopeText: v.scopeText,
    label: record.grant.label,
    proposer: record.proposer,
    validAfter: iso(record.grant.validAfter),
    validUntil: iso(record.grant.validUntil),
    createdAt: record.createdAt.toISOString(),
    activatedAt: record.activatedAt?.toISOString() ?? null,
    revokedAt: record.revokedAt?.toISOString() ?? null,
    revokedBy: record.revokedBy,
    revokeReason: record.revokeReason,
    threshold: v.threshold,
    members: v.members,
    approvals: v.approvals.map((a) => ({
      nodeId: a.nodeId,
      label: a.label,
      state: a.state,
      decision: a.decision,
      awaiting: a.awaiting ? { rule: a.awaiting.rule, reason: a.awaiting.reason, since: a.awaiting.since.toISOString() } : null,
    })),
    usage: {
      requests: usage.requests,
      rate: usage.rate ? { ...usage.rate, oldestLeavesAt: usage.rate.oldestLeavesAt === null ? null : iso(usage.rate.oldestLeavesAt) } : null,
      budgets: usage.budgets.map((b) => ({ ...b, periodStart: iso(b.periodStart), periodEnd: iso(b.periodEnd) })),
    },
    requests: v.requests.map((r) => ({ id: r.id, status: r.status, createdAt: r.createdAt.toISOString() })),
  };
};
