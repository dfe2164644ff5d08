import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { LocalCluster } from '#harness';
import { createBenchDatabase, databaseCounters, type DatabaseCounters } from './bench-database.js';
import { coordinatorProfileArgs, cpuMsOf, machineCpuTicks, rssMb, runSessions, type SessionStats } from './common.js';
import { postgresCpuMs } from './postgres-cpu.js';

/**
 * Several coordinator instances (issue 13 §4): the 2-of-3 secp256k1 session of the throughput part on a
 * fresh cluster of N coordinator processes sharing one PostgreSQL, for each N of BENCH_INSTANCES (default
 * "1,2,3"). Session n is POSTed to instance n mod N and long-polled on that same instance; node i connects
 * first to instance i mod N (LocalCluster), so with N > 1 most frames of a session cross instances
 * through the database. Each N gets a fresh database beside DATABASE_URL's when the server allows it.
 *
 * Measured over the timed run, per session: coordinator CPU summed over the instances, the local
 * PostgreSQL server's CPU (postgres-cpu.ts), the signers' and this client's CPU, committed transactions
 * and relayed frames (pg_stat counters of the run's database), and each instance's RSS at the end.
 */

export interface InstancesSettings {
  instanceCounts: number[];
  sessions: number;
  concurrency: number;
  databaseUrl: string;
}

export interface InstancesResult extends SessionStats {
  instances: number;
  coordinatorCpuMs: number | null;
  postgresCpuMs: number | null;
  signerCpuMs: number | null;
  clientCpuMs: number;
  /** Everything measured over (cores × wall time), in %; null when a part is unreadable. */
  busyPercent: number | null;
  /** The whole machine's busy time over its total (every process, ours or not), in %. */
  machineBusyPercent: number | null;
  rssMb: (number | null)[];
  commitsPerSession: number | null;
  relayedPerSession: number | null;
  freshDatabase: boolean;
}

const NODES = 3;
const THRESHOLD = 2;
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);
/** Enough for idle backends to flush their statistics (they do about once a second). */
const STATS_FLUSH_MS = 1_500;

export const instanceCountsFromEnv = (): number[] =>
  (process.env.BENCH_INSTANCES ?? '1,2,3').split(',').map((n) => Number(n.trim())).filter((n) => Number.isInteger(n) && n > 0);

export async function runInstancesBench(settings: InstancesSettings, log: (line: string) => void): Promise<InstancesResult[]> {
  const results: InstancesResult[] = [];
  for (const n of settings.instanceCounts) {
    const r = await runOne(n, settings, log);
    results.push(r);
    log(
      `${n} instance(s): ${r.perSecond.toFixed(1)} sessions/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ` +
        `CPU ms/session: coordinators ${fmt(r.coordinatorCpuMs)}, PostgreSQL ${fmt(r.postgresCpuMs)}, signers ${fmt(r.signerCpuMs)}, client ${fmt(r.clientCpuMs)}; ` +
        `busy ${fmt(r.busyPercent, 0)}% (machine ${fmt(r.machineBusyPercent, 0)}%), RSS ${r.rssMb.map((m) => fmt(m, 0)).join('/')} MB, ${fmt(r.commitsPerSession, 1)} commits and ${fmt(r.relayedPerSession, 1)} relayed frames per session, failed ${r.failed}`,
    );
  }
  return results;
}

async function runOne(instances: number, settings: InstancesSettings, log: (line: string) => void): Promise<InstancesResult> {
  const database = await createBenchDatabase(settings.databaseUrl, (reason) =>
    log(`no fresh database (${reason}): using DATABASE_URL itself, with a new key`),
  );
  const cluster = new LocalCluster({
    workDir: resolve('data/bench-instances'),
    nodes: NODES,
    instances,
    databaseUrl: database.url,
    coordinatorEnv: { REQUEST_TTL_MS: '120000' },
    coordinatorNodeArgs: coordinatorProfileArgs(),
    onStep: (t) => log(t),
  });
  // Not a plain `let`: TypeScript does not see the closure's assignment and narrows it to null.
  const failure: { first: string | null } = { first: null };
  const signOn = async (instance: number, keyId: string, message: string): Promise<boolean> => {
    try {
      const { id } = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, message, encoding: 'utf8', description: 'bench instances' }, instance);
      for (;;) {
        const r = await cluster.api<{ status: string }>('GET', `/v1/signing-requests/${id}?waitMs=30000`, undefined, instance);
        if (TERMINAL.has(r.status)) return r.status === 'completed';
      }
    } catch (e) {
      failure.first ??= (e as Error).message;
      return false;
    }
  };
  try {
    try {
      await cluster.start();
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${cluster.lastOutput()}`);
    }
    const key = await cluster.dealKey('secp256k1', THRESHOLD);
    // Warm-up on every instance: JIT, connection pools, caches.
    await runSessions(2, Math.max(10, 4 * instances), (n) => signOn(n % instances, key.id, `bench instances warm-up ${instances}/${n}`));
    await sleep(STATS_FLUSH_MS);

    const coordinatorPids = cluster.coordinators.map((c) => c.process.pid!);
    const signerPids = cluster.signers.map((c) => c.process.pid!);
    const countersBefore = await databaseCounters(database.url);
    const before = { coordinators: cpuMsOf(coordinatorPids), signers: cpuMsOf(signerPids), postgres: postgresCpuMs(database.url), client: process.cpuUsage(), machine: machineCpuTicks() };
    const stats = await runSessions(settings.concurrency, settings.sessions, (n) => signOn(n % instances, key.id, `bench instances ${instances}/${n}`));
    const after = { coordinators: cpuMsOf(coordinatorPids), signers: cpuMsOf(signerPids), postgres: postgresCpuMs(database.url), client: process.cpuUsage(before.client), machine: machineCpuTicks() };
    const rss = coordinatorPids.map(rssMb);
    await sleep(STATS_FLUSH_MS);
    const countersAfter = await databaseCounters(database.url);
    if (failure.first) log(`first failure: ${failure.first}`);

    const per = (a: number | null, b: number | null) => (a !== null && b !== null ? (b - a) / settings.sessions : null);
    const coordinatorCpuMs = per(before.coordinators, after.coordinators);
    const postgresCpu = per(before.postgres, after.postgres);
    const signerCpuMs = per(before.signers, after.signers);
    const clientCpuMs = (after.client.user + after.client.system) / 1000 / settings.sessions;
    const parts = [coordinatorCpuMs, postgresCpu, signerCpuMs, clientCpuMs];
    const busyPercent = parts.every((p) => p !== null)
      ? (parts.reduce((a, b) => a + b, 0) * settings.sessions * 100) / (cpus().length * stats.seconds * 1000)
      : null;
    const machineBusyPercent =
      before.machine && after.machine ? ((after.machine.busy - before.machine.busy) * 100) / (after.machine.total - before.machine.total) : null;
    const counter = (pick: (c: DatabaseCounters) => number) =>
      countersBefore && countersAfter ? (pick(countersAfter) - pick(countersBefore)) / settings.sessions : null;
    return {
      instances,
      ...stats,
      coordinatorCpuMs,
      postgresCpuMs: postgresCpu,
      signerCpuMs,
      clientCpuMs,
      busyPercent,
      machineBusyPercent,
      rssMb: rss,
      commitsPerSession: counter((c) => c.commits),
      relayedPerSession: counter((c) => c.relayedFrames),
      freshDatabase: database.fresh,
    };
  } finally {
    await cluster.stop();
    await database.drop();
  }
}

/** The docs/benchmarks.md section, with the fixed paragraph on what bounds scaling on this machine. */
export function instancesSection(results: InstancesResult[], settings: InstancesSettings, machine: string): string {
  const fresh = results.every((r) => r.freshDatabase);
  const pgReadable = results.some((r) => r.postgresCpuMs !== null);
  return [
    '<!-- bench:instances -->',
    '## Several coordinator instances (PostgreSQL server)',
    '',
    `Command: \`DATABASE_URL=postgres://… BENCH_PARTS=instances npm run bench\` (${settings.sessions} sessions per row at concurrency ${settings.concurrency}, ` +
      `${NODES} signer nodes, ${THRESHOLD}-of-${NODES} secp256k1), ${machine}.`,
    `Each row is a fresh cluster of N coordinator processes on ${fresh ? 'a fresh database' : 'DATABASE_URL\'s database'} of the same server; session n is`,
    'created on instance n mod N and long-polled there, node i connects first to instance i mod N. CPU is user+system',
    'time over the timed run divided by its sessions: coordinators summed over the instances; PostgreSQL the local',
    "server's `postgres` processes and the backends they reaped" + (pgReadable ? '' : ' (not readable from this process: n/a)') + '; the three signers; the bench client.',
    '"Busy" is all of that over cores × wall time; "machine busy" is /proc/stat\'s, every process included. Commits and',
    "relayed frames come from the run's database's `pg_stat` counters (`xact_commit`, rows inserted into",
    '`relayed_frames`), background work (heartbeats, scheduler scans) included.',
    '',
    '| instances | sessions/s | p50 ms | p95 ms | p99 ms | coordinators CPU ms/session | PostgreSQL CPU ms/session | signers CPU ms/session | client CPU ms/session | busy % | machine busy % | RSS MB per instance | commits/session | relayed frames/session | failed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.instances} | ${r.perSecond.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${fmt(r.coordinatorCpuMs)} | ${fmt(r.postgresCpuMs)} | ` +
        `${fmt(r.signerCpuMs)} | ${fmt(r.clientCpuMs)} | ${fmt(r.busyPercent, 0)} | ${fmt(r.machineBusyPercent, 0)} | ${r.rssMb.map((m) => fmt(m, 0)).join(' / ')} | ${fmt(r.commitsPerSession, 1)} | ${fmt(r.relayedPerSession, 1)} | ${r.failed} |`,
    ),
    '',
    'What bounds scaling here: the client, every coordinator instance, the PostgreSQL server and the three signers share',
    'the machine\'s two cores, so a second or third instance brings no CPU of its own; it splits the coordinator\'s work over',
    'more processes (each with its event loop, pool, heartbeat and scheduler). Once "busy" nears 100% the cores are the',
    'limit, and every instance added can only add work per session: a frame for a node held by another instance is',
    'inserted into `relayed_frames` in the deciding transaction, announced by `NOTIFY`, then taken and deleted by its',
    'holder, and a long-poll on another instance is woken by a `NOTIFY`. Every event takes the request\'s row lock in',
    'PostgreSQL whichever instance handles it, so the database serializes a request\'s events alike with one instance or',
    'three. On separate machines the coordinators\' CPU would spread out; PostgreSQL\'s CPU per session and its locks would not.',
    '<!-- /bench:instances -->',
  ].join('\n');
}

const fmt = (v: number | null, digits = 2): string => (v === null || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
