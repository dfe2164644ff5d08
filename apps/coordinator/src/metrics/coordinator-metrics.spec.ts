import { Logger } from '@nestjs/common';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NodeConnections } from '../nodes/node-connections.js';
import type { AuditLogLength, CheckpointGauge } from './audit-log-gauges.js';
import { CoordinatorMetrics } from './coordinator-metrics.js';

const connections = (n: number) => ({ connectedNodeIds: () => Array.from({ length: n }, (_, i) => `node-${i}`) }) as unknown as NodeConnections;
const auditLog = (entries: number | Error) => ({ entries: () => (entries instanceof Error ? Promise.reject(entries) : Promise.resolve(entries)) }) as unknown as AuditLogLength;
const value = async (m: CoordinatorMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
};

describe('CoordinatorMetrics', () => {
  // The outage case logs a warning per failed read, on purpose; not in the test output.
  beforeAll(() => Logger.overrideLogger(false));

  it('keeps a registry per instance: two coordinators in one process count apart', async () => {
    const one = new CoordinatorMetrics(connections(2), auditLog(5));
    const two = new CoordinatorMetrics(connections(0), auditLog(0));
    one.requestFinished('completed', 1.5);
    one.nodeExcluded('declined');
    expect(await value(one, 'roundtable_signing_requests_total', { status: 'completed' })).toBe(1);
    expect(await value(two, 'roundtable_signing_requests_total', { status: 'completed' })).toBeUndefined();
    expect([await value(one, 'roundtable_nodes_connected'), await value(two, 'roundtable_nodes_connected')]).toEqual([2, 0]);
    expect(await value(one, 'roundtable_audit_entries')).toBe(5);
    expect(await value(one, 'roundtable_signing_exclusions_total', { reason: 'declined' })).toBe(1);
  });

  it('observes time to signature only for completed requests', async () => {
    const m = new CoordinatorMetrics(connections(0), auditLog(0));
    m.requestFinished('expired', 30);
    m.requestFinished('completed', 2);
    expect(await value(m, 'roundtable_signing_time_to_signature_seconds', { le: '+Inf' })).toBe(1);
    expect(await value(m, 'roundtable_signing_request_duration_seconds', { le: '+Inf', status: 'expired' })).toBe(1);
  });

  it('answers a scrape while the database is down, counting the failed read', async () => {
    const m = new CoordinatorMetrics(connections(1), auditLog(new Error('Connection terminated')));
    await expect(m.registry.metrics()).resolves.toContain('roundtable_nodes_connected 1');
    // Two scrapes (the text above, the JSON here), two failed reads.
    expect(await value(m, 'roundtable_database_errors_total')).toBe(2);
  });

  it('shows the latest checkpoint\'s size and age when a checkpoint gauge is bound, and nothing without one', async () => {
    const issuedAt = new Date(Date.now() - 10_000);
    const checkpoints: CheckpointGauge = { latest: () => Promise.resolve({ size: 42, issuedAt }) };
    const m = new CoordinatorMetrics(connections(0), auditLog(42), checkpoints);
    expect(await value(m, 'roundtable_audit_checkpoint_size')).toBe(42);
    expect(await value(m, 'roundtable_audit_checkpoint_age_seconds')).toBeGreaterThanOrEqual(10);
    const none = new CoordinatorMetrics(connections(0), auditLog(0));
    expect(await none.registry.metrics()).not.toContain('roundtable_audit_checkpoint');
  });
});
