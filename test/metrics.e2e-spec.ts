import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { dataSourceOf } from './support/principals.js';
import { scriptedSigners, type ScriptedSigner } from './support/scripted-signer.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * The Prometheus text exposition format (0.0.4), strictly: `# HELP`/`# TYPE` lines naming valid metric
 * names (one TYPE per family, before its samples), and samples `name{label="value",...} number`. Throws
 * on any line it cannot read.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const where = `line ${i + 1}: ${line}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m || !NAME.test(m[2]!)) throw new Error(`bad comment, ${where}`);
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3]!) || types.has(m[2]!)) throw new Error(`bad or repeated TYPE, ${where}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample, ${where}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;
    let consumed = 0;
    for (let l = labelRe.exec(body); l; l = labelRe.exec(body)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      consumed = labelRe.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`bad labels, ${where}`);
    // As Prometheus reads it (Go's ParseFloat): NaN and Inf in any letter case.
    const raw = m[3]!;
    const value = /^[+-]?inf(inity)?$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : /^nan$/i.test(raw) ? NaN : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value, ${where}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !types.has(family)) throw new Error(`sample before its TYPE, ${where}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** The value of the one sample named `name` whose labels include `labels` (0 when there is none yet). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

async function scrape(coord: TestCoordinator): Promise<Sample[]> {
  // No token: a scraper has none.
  const res = await fetch(`${coord.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text()).samples;
}

describe('GET /metrics', () => {
  let coord: TestCoordinator;
  let signers: ScriptedSigner[];
  let keyId: string;

  beforeAll(async () => {
    coord = await startTestCoordinator();
    ({ keyId, signers } = await scriptedSigners(coord, 2, 3));
  });
  afterAll(async () => {
    signers?.forEach((s) => s.node.close());
    await coord?.destroy();
  });

  const createRequest = async (text: string): Promise<string> => {
    const res = await coord.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, payload: { kind: 'text', text } });
    expect(res.status).toBe(201);
    await Promise.all(signers.map((s) => s.node.next('request.propose', (f) => f.requestId === res.body.id)));
    return res.body.id;
  };
  const [a, b, c] = [() => signers[0]!, () => signers[1]!, () => signers[2]!];

  it('parses, and declares the metrics of every kind it promises', async () => {
    const res = await fetch(`${coord.httpUrl}/metrics`);
    const { types } = parseExposition(await res.text());
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('roundtable_') && !name.startsWith('roundtable_process') && !name.startsWith('roundtable_nodejs')))).toMatchObject({
      roundtable_http_requests_total: 'counter',
      roundtable_http_request_duration_seconds: 'histogram',
      roundtable_signing_requests_total: 'counter',
      roundtable_signing_time_to_signature_seconds: 'histogram',
      roundtable_signing_round_duration_seconds: 'histogram',
      roundtable_signing_attempts_started_total: 'counter',
      roundtable_signing_attempts_ended_total: 'counter',
      roundtable_signing_exclusions_total: 'counter',
      roundtable_nodes_connected: 'gauge',
      roundtable_database_errors_total: 'counter',
      roundtable_audit_entries: 'gauge',
      roundtable_nonce_stock: 'gauge',
    });
  });

  it('counts the nonce stock: commitments the nodes sent that no attempt has used yet', async () => {
    const stock = async () => valueOf(await scrape(coord), 'roundtable_nonce_stock');
    expect(await stock()).toBe(0);
    const id = await createRequest('metrics: stock');
    a().commit(id);
    // One commitment of a 2-of-3 key: no attempt can start, it waits in stock.
    await expect.poll(stock).toBe(1);
    c().commit(id);
    const packages = await Promise.all([a(), c()].map((s) => s.node.next('attempt.package', (f) => f.requestId === id)));
    // Both are in the attempt now: none left in stock.
    expect(await stock()).toBe(0);
    for (const [i, s] of [a(), c()].entries()) s.node.send({ type: 'attempt.share', requestId: id, attemptId: packages[i]!.attemptId, share: s.share(packages[i]!) });
    await a().node.next('request.closed', (f) => f.requestId === id && f.status === 'completed');
    expect(await stock()).toBe(0);
  });

  it('moves the counters after a signature and a rejection', async () => {
    const before = await scrape(coord);
    expect(valueOf(before, 'roundtable_nodes_connected')).toBe(3);

    // Signed by a and c.
    const signed = await createRequest('metrics: signed');
    a().commit(signed);
    c().commit(signed);
    const packages = await Promise.all([a(), c()].map((s) => s.node.next('attempt.package', (f) => f.requestId === signed)));
    for (const [i, s] of [a(), c()].entries()) s.node.send({ type: 'attempt.share', requestId: signed, attemptId: packages[i]!.attemptId, share: s.share(packages[i]!) });
    await a().node.next('request.closed', (f) => f.requestId === signed && f.status === 'completed');

    // Declined by b and c: two of three, more than n - t, rejects it.
    const rejected = await createRequest('metrics: rejected');
    b().decline(rejected, 'POLICY_DENIED', 'no');
    c().decline(rejected, 'OPERATOR_REJECTED', 'no');
    await a().node.next('request.closed', (f) => f.requestId === rejected && f.status === 'failed');

    const after = await scrape(coord);
    const moved = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect({
      completed: moved('roundtable_signing_requests_total', { status: 'completed' }),
      failed: moved('roundtable_signing_requests_total', { status: 'failed' }),
      signatures: moved('roundtable_signing_time_to_signature_seconds_count'),
      commitRounds: moved('roundtable_signing_round_duration_seconds_count', { round: 'commit' }),
      signRounds: moved('roundtable_signing_round_duration_seconds_count', { round: 'sign' }),
      attempts: moved('roundtable_signing_attempts_started_total'),
      attemptsCompleted: moved('roundtable_signing_attempts_ended_total', { status: 'completed' }),
      declined: moved('roundtable_signing_exclusions_total', { reason: 'declined' }),
      created: moved('roundtable_http_requests_total', { method: 'POST', route: '/v1/signing-requests', status: '201' }),
    }).toEqual({ completed: 1, failed: 1, signatures: 1, commitRounds: 1, signRounds: 1, attempts: 1, attemptsCompleted: 1, declined: 2, created: 2 });
    // Durations are real: the signature took time, and the histogram's +Inf bucket holds every observation.
    expect(valueOf(after, 'roundtable_signing_time_to_signature_seconds_sum')).toBeGreaterThan(0);
    expect(valueOf(after, 'roundtable_signing_time_to_signature_seconds_bucket', { le: '+Inf' })).toBe(valueOf(after, 'roundtable_signing_time_to_signature_seconds_count'));
    // Routes are patterns, never raw paths with ids in them.
    expect(after.filter((s) => s.name === 'roundtable_http_requests_total').map((s) => s.labels.route)).not.toContainEqual(expect.stringMatching(/[0-9a-f]{8}-/));
    await coord.api('GET', `/v1/signing-requests/${signed}`);
    expect(valueOf(await scrape(coord), 'roundtable_http_requests_total', { method: 'GET', route: '/v1/signing-requests/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'roundtable_database_errors_total')).toBe(0);
  });

  it('reports the audit log length and the connected nodes as they are', async () => {
    const rows = await dataSourceOf(coord).query<{ n: string }[]>('SELECT count(*) AS n FROM audit_log');
    const n = rows[0]!.n;
    const samples = await scrape(coord);
    // The scrape itself writes no entry, so the gauge equals the table.
    expect(valueOf(samples, 'roundtable_audit_entries')).toBe(Number(n));
    b().node.close();
    await expect.poll(async () => valueOf(await scrape(coord), 'roundtable_nodes_connected')).toBe(2);
  });
});
