import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { utf8, type SuiteId } from '#crypto';
import type { Fault } from '#harness';
import { ready, verifyIndependentlySync } from '#verify';
import { startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { FaultCluster, type RequestView } from './support/fault-cluster.js';

/**
 * Issue 4 §3: ROAST under injected faults. The real coordinator, real SignerNodes, each behind a
 * FaultProxy that makes it silent, slow, crash, or misbehave on the wire (see libs/harness/src/fault-proxy.ts).
 *
 * Every case asserts: the outcome (a signature an independent verifier accepts), exactly which nodes were
 * excluded and why (nodes that are only unavailable — silent, slow, crashed — are never blamed), and how many
 * attempts were used (never more than n - t + 1; exactly, where the schedule is deterministic).
 *
 * Schedules are made deterministic by ordering commitments: honest nodes run `slow` (HONEST_DELAY_MS on every
 * frame), so the faulty nodes' commitments are ready first and land in the first attempt.
 */

const STAGGER_MS = 100;
const HONEST_DELAY_MS = 300;
const slow: Fault = { kind: 'slow', delayMs: HONEST_DELAY_MS };

type Culprit = [node: number, reason: string];

// The independent verifiers are called synchronously in expectSigned: load libsodium (ristretto255) first.
beforeAll(() => ready());

/** Runs one case: faults by node index; every other node is honest and `slow` (its commitment is ready late). */
async function runCase(cluster: FaultCluster, label: string, faults: Record<number, Fault>): Promise<RequestView> {
  for (let i = 0; i < cluster.n; i++) cluster.setFault(i, faults[i] ?? slow);
  const message = `${label} (${cluster.t}-of-${cluster.n}, ${Date.now()})`;
  const view = await cluster.sign(message);
  (view as RequestView & { message: string }).message = message;
  if (process.env.FAULT_DEBUG) debugDump(cluster, view);
  return view;
}

/** With FAULT_DEBUG set: the request and every frame the proxies saw for it, for diagnosing a failure. */
function debugDump(cluster: FaultCluster, view: RequestView): void {
  const name = (id: unknown) => (typeof id === 'string' && cluster.nodeIds.includes(id) ? `node${cluster.nodeIds.indexOf(id)}` : id);
  const attempt = (id: unknown) => view.attempts.find((a) => a.id === id)?.seq ?? (id ? 'other' : '');
  console.log(
    JSON.stringify({ ...view, culprits: view.culprits.map((c) => ({ ...c, nodeId: name(c.nodeId) })), attempts: view.attempts.map((a) => ({ ...a, participants: a.participants.map(name) })) }, null, 1),
  );
  const rows = cluster.proxies.flatMap((p, i) =>
    p.frames
      .filter((r) => r.frame.requestId === view.id || (r.injected && r.at >= (cluster.proxies[0]!.frames.find((f) => f.frame.requestId === view.id)?.at ?? 0)))
      .map((r) => ({ r, i })),
  );
  rows.sort((a, b) => a.r.at - b.r.at);
  const t0 = rows[0]?.r.at ?? 0;
  for (const { r, i } of rows) {
    const f = r.frame;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const extra = f.type === 'error' ? `${text(f.code)} ${text(f.message)}` : f.type === 'request.closed' ? `${text(f.status)} ${text(f.reason)}` : f.type === 'attempt.abort' ? text(f.reason) : f.type === 'ack' ? text(f.of) : '';
    console.log(`${String(r.at - t0).padStart(5)} node${i} c${r.connection} ${r.direction === 'to-node' ? '<-' : '->'} ${f.type} a=${attempt(f.attemptId)}${r.dropped ? ' DROPPED' : ''}${r.injected ? ' INJECTED' : ''}${f.requestId !== view.id ? ' OTHER-REQUEST' : ''} ${extra}`);
  }
}

function expectSigned(cluster: FaultCluster, view: RequestView): void {
  expect(view.failure, JSON.stringify(view.failure)).toBeNull();
  expect(view.status).toBe('completed');
  const message = (view as RequestView & { message: string }).message;
  expect(verifyIndependentlySync(cluster.key.suite, view.signature!, utf8(message), cluster.key.groupPublicKey)).toBe(true);
  // And it is a signature of this message only.
  expect(verifyIndependentlySync(cluster.key.suite, view.signature!, utf8(`${message}!`), cluster.key.groupPublicKey)).toBe(false);
}

function expectCulprits(cluster: FaultCluster, view: RequestView, expected: Culprit[]): void {
  const byId = new Map(cluster.nodeIds.map((id, i) => [id, i]));
  const actual = view.culprits.map((c) => [byId.get(c.nodeId) ?? c.nodeId, c.reason]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  expect(actual).toEqual([...expected].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
}

/** At most n - t + 1 attempts, each with exactly t participants, no excluded node in an attempt after its exclusion. */
function expectAttempts(cluster: FaultCluster, view: RequestView, exactly?: number): void {
  expect(view.attempts.length).toBeGreaterThanOrEqual(1);
  expect(view.attempts.length).toBeLessThanOrEqual(cluster.n - cluster.t + 1);
  if (exactly !== undefined) expect(view.attempts.length).toBe(exactly);
  for (const attempt of view.attempts) expect(attempt.participants).toHaveLength(cluster.t);
  // Ordered by seq; a completed request has exactly one completed attempt, the last one started or not.
  if (view.status === 'completed') expect(view.attempts.filter((a) => a.status === 'completed')).toHaveLength(1);
  // A culprit never appears in an attempt that started after its exclusion.
  const seqOf = new Map(view.attempts.map((a) => [a.id, a.seq]));
  for (const culprit of view.culprits) {
    if (!culprit.attemptId || !seqOf.has(culprit.attemptId)) continue;
    const markedIn = seqOf.get(culprit.attemptId)!;
    for (const a of view.attempts) if (a.seq > markedIn + 1) expect(a.participants, `${culprit.nodeId} in attempt ${a.seq}`).not.toContain(culprit.nodeId);
  }
}

/**
 * ROAST: a node that sends a bad share is marked the first time and never joins another attempt. (A node
 * whose only fault is a replayed or foreign frame may have taken part honestly before, so this is for nodes
 * that misbehave in every attempt they are in.)
 */
function expectInOneAttemptAtMost(cluster: FaultCluster, view: RequestView, nodes: number[]): void {
  for (const i of nodes) {
    const seqs = view.attempts.filter((a) => a.participants.includes(cluster.nodeIds[i]!)).map((a) => a.seq);
    expect(seqs.length, `node ${i} (a bad share in every attempt it joins) was in attempts ${seqs.join(', ')}`).toBeLessThanOrEqual(1);
  }
}

const participantsOf = (cluster: FaultCluster, view: RequestView, seq: number): number[] =>
  view.attempts
    .find((a) => a.seq === seq)!
    .participants.map((id) => cluster.nodeIds.indexOf(id))
    .sort((a, b) => a - b);

let coordinator: TestCoordinator;

function describeCluster(n: number, t: number, suite: SuiteId, body: (get: () => FaultCluster) => void): void {
  describe(`${t}-of-${n} (${suite})`, () => {
    let cluster: FaultCluster;
    beforeAll(async () => {
      cluster = await FaultCluster.start({ nodes: n, threshold: t, suite, sharedCoordinator: coordinator });
    });
    afterEach(async () => {
      await cluster.resetFaults();
      expect(cluster.proxies.flatMap((p) => p.problems)).toEqual([]);
    });
    afterAll(async () => {
      await cluster?.stop();
    });
    body(() => cluster);
  });
}

describe('ROAST under injected faults (real coordinator, real signer nodes behind fault proxies)', () => {
  // One coordinator (and database) for the three clusters: each has its own nodes and key.
  beforeAll(async () => {
    coordinator = await startTestCoordinator({ attemptStaggerMs: STAGGER_MS, requestTtlMs: 30_000 });
  });
  afterAll(async () => {
    await coordinator?.destroy();
  });

  describeCluster(3, 2, 'secp256k1', (get) => {
    it('no faults: one attempt, no culprits', async () => {
      const c = get();
      // 2 commits long after 0 and 1 answered: no second attempt can start.
      const view = await runCase(c, 'no faults', { 0: { kind: 'none' }, 1: { kind: 'none' }, 2: { kind: 'slow', delayMs: 1_500 } });
      expectSigned(c, view);
      expectCulprits(c, view, []);
      expectAttempts(c, view, 1);
    });

    it('silent node in the first attempt: the second attempt completes; the silent node is not blamed', async () => {
      const c = get();
      // 0 silent and 1 commit first: attempt 1 = {0, 1}; 1 answers and re-commits, 2 commits late: attempt 2 = {1, 2}.
      const view = await runCase(c, 'silent', { 0: { kind: 'silent' }, 1: { kind: 'none' } });
      expectSigned(c, view);
      expectCulprits(c, view, []);
      expectAttempts(c, view, 2);
      expect(participantsOf(c, view, 1)).toEqual([0, 1]);
      expect(participantsOf(c, view, 2)).toEqual([1, 2]);
      // Attempt 1 never got node 0's share; it was still running when attempt 2 completed.
      expect(view.attempts.find((a) => a.seq === 1)!.status).toBe('aborted');
    });

    it('invalid share: blamed invalid_share, never in a later attempt', async () => {
      const c = get();
      // 1 answers a little after 0, so its share is the one that completes attempt 1 (and makes it aggregate).
      const view = await runCase(c, 'invalid share', { 0: { kind: 'invalid-share' }, 1: { kind: 'slow', delayMs: 50 } });
      expectSigned(c, view);
      expectCulprits(c, view, [[0, 'invalid_share']]);
      expectInOneAttemptAtMost(c, view, [0]);
      expectAttempts(c, view, 2);
      expect(participantsOf(c, view, 1)).toEqual([0, 1]);
      expect(view.attempts.find((a) => a.seq === 1)!.status).toBe('failed');
      expect(participantsOf(c, view, 2)).toEqual([1, 2]);
    });

    it('crash when the signing package arrives: the restarted node is not blamed', async () => {
      const c = get();
      // Attempt 1 = {0, 1}; 0 crashes on its package, restarts and refuses it (its nonce is gone: blameless),
      // commits afresh, and attempt 2 = {0, 1} completes long before 2 (very slow) is ready.
      const view = await runCase(c, 'crash at package', {
        0: { kind: 'crash', at: 'package' },
        1: { kind: 'none' },
        2: { kind: 'slow', delayMs: 1_500 },
      });
      expectSigned(c, view);
      expectCulprits(c, view, []);
      expectAttempts(c, view, 2);
      expect(participantsOf(c, view, 1)).toEqual([0, 1]);
      expect(view.attempts.find((a) => a.seq === 1)!.status).toBe('failed');
      expect(participantsOf(c, view, 2)).toEqual([0, 1]);
      // The restarted node refused attempt 1's package on its new connection.
      const refusal = c.proxies[0]!.frames.find((r) => r.frame.type === 'attempt.refuse' && r.frame.requestId === view.id);
      expect(refusal?.frame.code).toMatch(/^NONCE_(CONSUMED|UNKNOWN)$/);
      expect(c.crashes.filter((e) => e.index === 0 && e.at === 'package')).toHaveLength(1);
    });

    it('replaying a share of an older, finished request: answered REQUEST_FINISHED, not blamed', async () => {
      const c = get();
      const before = c.proxies[0]!.frames.length;
      const view = await runCase(c, 'replay older request', { 0: { kind: 'replay-older', from: 'older-request' }, 1: { kind: 'none' } });
      expectSigned(c, view);
      expectCulprits(c, view, []);
      expectAttempts(c, view, 1);
      const recorded = c.proxies[0]!.frames.slice(before);
      const replay = recorded.find((r) => r.injected && r.frame.type === 'attempt.share');
      expect(replay, 'the proxy replayed an older share').toBeDefined();
      expect(replay!.frame.requestId).not.toBe(view.id);
      const answer = await c.proxies[0]!.waitForFrame(
        (r) => r.direction === 'to-node' && r.frame.type === 'error' && r.frame.requestId === replay!.frame.requestId && r.at >= replay!.at,
      );
      expect(answer.frame.code).toBe('REQUEST_FINISHED');
    });

    it('more than n - t malicious nodes: fails NOT_ENOUGH_SIGNERS naming the excluded nodes', async () => {
      const c = get();
      const view = await runCase(c, 'two malicious', { 0: { kind: 'invalid-share' }, 1: { kind: 'equivocate' } });
      expect(view.status).toBe('failed');
      expect(view.signature).toBeNull();
      expect(view.failure?.code).toBe('NOT_ENOUGH_SIGNERS');
      expectCulprits(c, view, [
        [0, 'invalid_share'],
        [1, 'unsolicited_frame'],
      ]);
      expect(view.failure!.reason).toContain(c.nodeIds[0]);
      expect(view.failure!.reason).toContain(c.nodeIds[1]);
      expect(view.attempts.length).toBeLessThanOrEqual(c.n - c.t + 1);
    });
  });

  describeCluster(5, 3, 'secp256k1', (get) => {
    it('silent + malformed share: only the malformed one is blamed; two attempts', async () => {
      const c = get();
      // Attempt 1 = {0, 1, one honest}: 0 never answers, 1 is excluded; attempt 2 = the three honest nodes.
      const view = await runCase(c, 'silent + malformed', { 0: { kind: 'silent' }, 1: { kind: 'malformed-share' } });
      expectSigned(c, view);
      expectCulprits(c, view, [[1, 'malformed_share']]);
      expectInOneAttemptAtMost(c, view, [1]);
      expectAttempts(c, view, 2);
      expect(participantsOf(c, view, 1)).toEqual(expect.arrayContaining([0, 1]));
      expect(participantsOf(c, view, 2)).toEqual([2, 3, 4]);
    });

    it('invalid share + equivocating commitments: both blamed; two attempts', async () => {
      const c = get();
      // 1 sends two different commitments at once and is excluded before any attempt; attempt 1 = {0, two honest}.
      const view = await runCase(c, 'invalid + equivocate', { 0: { kind: 'invalid-share' }, 1: { kind: 'equivocate' } });
      expectSigned(c, view);
      expectCulprits(c, view, [
        [0, 'invalid_share'],
        [1, 'unsolicited_frame'],
      ]);
      expectInOneAttemptAtMost(c, view, [0]);
      expectAttempts(c, view, 2);
      for (const a of view.attempts) expect(a.participants).not.toContain(c.nodeIds[1]);
      expect(participantsOf(c, view, 1)).toContain(0);
      expect(participantsOf(c, view, 2)).toEqual([2, 3, 4]);
    });

    it('replay of an earlier attempt’s share + invalid share: both blamed', async () => {
      const c = get();
      // Attempt 1 = {0, 1, honest}; 0's share is invalid; 1 joins a later attempt and replays its attempt-1 share there.
      const view = await runCase(c, 'replay same request + invalid', {
        0: { kind: 'invalid-share' },
        1: { kind: 'replay-older', from: 'same-request' },
      });
      expectSigned(c, view);
      expectCulprits(c, view, [
        [0, 'invalid_share'],
        [1, 'unsolicited_frame'],
      ]);
      expectInOneAttemptAtMost(c, view, [0]);
      expectAttempts(c, view);
      expect(participantsOf(c, view, 1)).toEqual(expect.arrayContaining([0, 1]));
      const replay = c.proxies[1]!.frames.find((r) => r.injected && r.frame.requestId === view.id && r.frame.type === 'attempt.share');
      expect(replay?.frame.attemptId).toBe(view.attempts.find((a) => a.seq === 1)!.id);
    });

    it('crash on proposal + share for an attempt it is not in: only the foreign share is blamed', async () => {
      const c = get();
      const view = await runCase(c, 'crash at propose + foreign', {
        0: { kind: 'crash', at: 'propose' },
        1: { kind: 'foreign-attempt', withholdCommitments: true },
      });
      expectSigned(c, view);
      expectCulprits(c, view, [[1, 'unsolicited_frame']]);
      expectAttempts(c, view);
      for (const a of view.attempts) expect(a.participants).not.toContain(c.nodeIds[1]);
      const foreign = c.proxies[1]!.frames.find((r) => r.injected && r.frame.requestId === view.id);
      expect(foreign?.frame.attemptId).toBe(view.attempts[0]!.id);
      expect(c.crashes.filter((e) => e.index === 0 && e.at === 'propose')).toHaveLength(1);
    });

    it('crash right after sending a share + silent: nobody blamed, at most three attempts', async () => {
      const c = get();
      // Attempt 1 = {0, 1, honest} stalls on silent 1; 0's next commitment died with it (a blameless refusal later).
      const view = await runCase(c, 'crash at share + silent', { 0: { kind: 'crash', at: 'share' }, 1: { kind: 'silent' } });
      expectSigned(c, view);
      expectCulprits(c, view, []);
      expectAttempts(c, view);
      expect(participantsOf(c, view, 1)).toEqual(expect.arrayContaining([0, 1]));
      expect(c.crashes.filter((e) => e.index === 0 && e.at === 'share')).toHaveLength(1);
    });

    it('more than n - t malicious nodes: fails NOT_ENOUGH_SIGNERS naming all three', async () => {
      const c = get();
      const view = await runCase(c, 'three malicious', {
        0: { kind: 'invalid-share' },
        1: { kind: 'malformed-share' },
        2: { kind: 'equivocate' },
      });
      expect(view.status).toBe('failed');
      expect(view.failure?.code).toBe('NOT_ENOUGH_SIGNERS');
      expectCulprits(c, view, [
        [0, 'invalid_share'],
        [1, 'malformed_share'],
        [2, 'unsolicited_frame'],
      ]);
      for (const i of [0, 1, 2]) expect(view.failure!.reason).toContain(c.nodeIds[i]);
      expect(view.attempts.length).toBeLessThanOrEqual(c.n - c.t + 1);
    });
  });

  // ristretto255 here, for time: signer nodes validate the whole public key package (n verifying shares
  // against t commitments) each time they load a share and every element of each signing package, which
  // at 11-of-15 costs ~0.9 s per load for secp256k1 and ~0.2 s for ed25519 (torsion checks), far less for
  // ristretto255. The protocol paths under test are the same for every suite.
  describeCluster(15, 11, 'ristretto255', (get) => {
    it('4 faulty (silent, invalid, malformed, equivocate): three blamed, the silent one not', async () => {
      const c = get();
      const view = await runCase(c, 'four faulty', {
        0: { kind: 'silent' },
        1: { kind: 'invalid-share' },
        2: { kind: 'malformed-share' },
        3: { kind: 'equivocate' },
      });
      expectSigned(c, view);
      expectCulprits(c, view, [
        [1, 'invalid_share'],
        [2, 'malformed_share'],
        [3, 'unsolicited_frame'],
      ]);
      expectInOneAttemptAtMost(c, view, [1, 2]);
      expectAttempts(c, view);
      expect(participantsOf(c, view, 1)).toEqual(expect.arrayContaining([0, 1, 2]));
      const last = view.attempts.find((a) => a.status === 'completed')!;
      for (const i of [0, 1, 2, 3]) expect(last.participants).not.toContain(c.nodeIds[i]);
    });

    it('4 faulty (crash, slow, replay from an older request, foreign attempt): two blamed', async () => {
      const c = get();
      const view = await runCase(c, 'four faulty, second mix', {
        0: { kind: 'crash', at: 'package' },
        1: { kind: 'slow', delayMs: 1_500 },
        2: { kind: 'foreign-attempt', withholdCommitments: true },
        // Node 4 was honest in the previous case, so it holds a valid share frame of that (finished) request.
        4: { kind: 'replay-older', from: 'older-request-retargeted' },
      });
      expectSigned(c, view);
      expectCulprits(c, view, [
        [2, 'unsolicited_frame'],
        [4, 'unsolicited_frame'],
      ]);
      expectAttempts(c, view);
      expect(participantsOf(c, view, 1)).toEqual(expect.arrayContaining([0, 4]));
      for (const a of view.attempts) expect(a.participants).not.toContain(c.nodeIds[2]);
      const replay = c.proxies[4]!.frames.find((r) => r.injected && r.frame.requestId === view.id);
      expect(replay?.frame.type).toBe('attempt.share');
      expect(view.attempts.map((a) => a.id)).not.toContain(replay!.frame.attemptId);
      expect(c.crashes.filter((e) => e.index === 0 && e.at === 'package')).toHaveLength(1);
    });
  });
});

describe('pure ROAST (ATTEMPT_STAGGER_MS=0): attempts start as soon as t signers are ready', () => {
  let pure: TestCoordinator;
  let cluster: FaultCluster;
  beforeAll(async () => {
    pure = await startTestCoordinator({ attemptStaggerMs: 0, requestTtlMs: 30_000 });
    cluster = await FaultCluster.start({ nodes: 5, threshold: 3, suite: 'ed25519', sharedCoordinator: pure });
  });
  afterAll(async () => {
    await cluster?.stop();
    await pure?.destroy();
  });

  it('3-of-5, two silent: a second attempt runs beside the stalled first and completes; nobody is blamed', async () => {
    const view = await runCase(cluster, 'pure ROAST, silent', { 0: { kind: 'silent' }, 1: { kind: 'silent' } });
    expectSigned(cluster, view);
    expectCulprits(cluster, view, []);
    expectAttempts(cluster, view, 2);
    // Attempt 1 holds the silent nodes and never completes: it was still running when attempt 2 completed
    // the request, and ended `aborted` then.
    expect(participantsOf(cluster, view, 1)).toEqual(expect.arrayContaining([0, 1]));
    expect(view.attempts[0]!.status).toBe('aborted');
    expect(participantsOf(cluster, view, 2)).toEqual([2, 3, 4]);
  });

  it('3-of-5, silent + invalid share: the invalid share is caught before its sender joins a second attempt', async () => {
    const view = await runCase(cluster, 'pure ROAST, invalid', { 0: { kind: 'silent' }, 1: { kind: 'invalid-share' } });
    expectSigned(cluster, view);
    expectCulprits(cluster, view, [[1, 'invalid_share']]);
    expectInOneAttemptAtMost(cluster, view, [1]);
    expectAttempts(cluster, view, 2);
    // Attempt 1 could not complete (0 is silent), so 1's share was checked when 1 was about to join
    // attempt 2: found invalid, it excluded 1 and ended attempt 1 as failed.
    expect(participantsOf(cluster, view, 1)).toEqual(expect.arrayContaining([0, 1]));
    expect(view.attempts[0]!.status).toBe('failed');
    expect(participantsOf(cluster, view, 2)).toEqual([2, 3, 4]);
  });
});
