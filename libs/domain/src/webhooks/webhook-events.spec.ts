import { describe, expect, it } from 'vitest';
import type { AuditAction, AuditEntryInput, GrantRecord, SigningRequestRecord } from '../records.js';
import { grantWebhookEvents, nextAttemptAt, requestWebhookEvents } from './webhook-events.js';

const AT = new Date('2026-03-01T10:00:00.000Z');
const request = { id: 'r1', keyId: 'k1', status: 'completed', intentHash: 'ab'.repeat(32), signature: 'cd'.repeat(32), failureCode: null, failureReason: null, grantId: null } as unknown as SigningRequestRecord;
const entryOf = (action: AuditAction, requestId: string | null = 'r1', details: Record<string, unknown> = {}): AuditEntryInput => ({
  occurredAt: AT,
  actorKind: 'system',
  actorId: 'coordinator',
  action,
  outcome: 'success',
  keyId: 'k1',
  requestId,
  details,
});

describe('webhook events of audit entries', () => {
  it.each<[AuditAction, string | null]>([
    ['request.created', 'request.pending'],
    ['signature.produced', 'request.completed'],
    ['request.failed', 'request.failed'],
    ['request.expired', 'request.expired'],
    ['request.rejected', 'request.rejected'],
    ['request.cancelled', 'request.cancelled'],
    ['request.declined', null],
    ['request.proposed', null],
    ['attempt.failed', null],
    ['share.received', null],
  ])('%s -> %s', (action, type) => {
    const events = requestWebhookEvents(request, [entryOf(action)]);
    expect(events.map((e) => e.type)).toEqual(type ? [type] : []);
    if (type) expect(events[0]).toEqual({ type, timestamp: AT.toISOString(), data: expect.objectContaining({ requestId: 'r1', keyId: 'k1', status: 'completed', intentHash: request.intentHash }) as unknown });
  });

  it("ignores another request's entries", () => {
    expect(requestWebhookEvents(request, [entryOf('request.failed', 'r2')])).toEqual([]);
  });

  it.each([
    [0, 1, 2, false],
    [1, 2, 2, true],
    [0, 2, 2, true],
    [2, 3, 2, false],
    [1, 1, 2, false],
  ])('request.approved: %i -> %i approvals of t = %i sends it: %s', (before, after, threshold, sent) => {
    const events = requestWebhookEvents(request, [entryOf('request.approved')], { before, after, threshold });
    expect(events.filter((e) => e.type === 'request.approved')).toHaveLength(sent ? 1 : 0);
    if (sent) expect(events[0]!.data).toMatchObject({ approvals: after, threshold });
  });

  it('grant.activated is grant.approved (active), grant.revoked carries the reason; nothing else of a grant', () => {
    const grant = { id: 'g1', keyId: 'k1', grantHash: 'ef'.repeat(32), grant: { label: 'payroll' }, revokeReason: 'leaked', revokedBy: 'admin' } as unknown as GrantRecord;
    const events = grantWebhookEvents(grant, [
      entryOf('grant.approved', null, { grantId: 'g1' }),
      entryOf('grant.activated', null, { grantId: 'g1' }),
      entryOf('grant.revoked', null, { grantId: 'g1' }),
      entryOf('grant.revoked', null, { grantId: 'g2' }),
    ]);
    expect(events.map((e) => [e.type, e.data['status']])).toEqual([
      ['grant.approved', 'active'],
      ['grant.revoked', 'revoked'],
    ]);
    expect(events[1]!.data).toMatchObject({ grantId: 'g1', grantHash: grant.grantHash, label: 'payroll', reason: 'leaked', revokedBy: 'admin' });
  });
});

describe('retry schedule', () => {
  it('waits each delay in turn after a failed attempt, then gives up', () => {
    const delays = [5_000, 30_000, 120_000];
    expect(nextAttemptAt(1, delays, AT)).toEqual(new Date(AT.getTime() + 5_000));
    expect(nextAttemptAt(2, delays, AT)).toEqual(new Date(AT.getTime() + 30_000));
    expect(nextAttemptAt(3, delays, AT)).toEqual(new Date(AT.getTime() + 120_000));
    expect(nextAttemptAt(4, delays, AT)).toBeNull();
    expect(nextAttemptAt(1, [], AT)).toBeNull();
  });
});
