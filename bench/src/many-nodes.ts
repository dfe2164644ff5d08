import { fork, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster, waitFor } from '#harness';
import { createBenchDatabase } from './bench-database.js';
import { coordinatorProfileArgs, percentile, rssMb } from './common.js';
import type { SwarmMessage, SwarmReply, SwarmStatus } from './node-swarm.js';

/**
 * Many connected nodes on one coordinator (issue 13 §3): the coordinator process on PostgreSQL with 3
 * real signer processes (a dealt 2-of-3 key), then BENCH_NODES (default 10000) Ed25519 identities enrolled
 * over REST and connected as lightweight simulated nodes (bench/src/node-swarm.ts: one child process, the
 * real handshake). The coordinator's RSS (VmRSS) is read before they connect and at 1k, 5k and N
 * connected, each after a settle; with all of them connected, GET /health (p50 of 20) and one 2-of-3
 * signing request through the real signers (POST + long-poll) are timed.
 *
 * Runs on a fresh database created beside DATABASE_URL's (bench-database.ts; dropped afterwards), so that
 * earlier runs' nodes do not count. Settings: BENCH_NODES, BENCH_NODES_SETTLE_MS (default 10000), BENCH_NODES_ADDRESSES
 * (local source addresses the sockets spread over, default 127.0.0.2..127.0.0.5), BENCH_NODES_CONCURRENCY
 * (handshakes in flight, default 64), BENCH_NODES_COORDINATOR_ARGS (extra Node flags for the coordinator,
 * space-separated), BENCH_NODES_HEAP_SNAPSHOTS=<dir> (a diagnosis, not a measurement: the coordinator writes a
 * heap snapshot there after the "before" reading and after the last one; RSS readings after the first
 * snapshot are inflated by it).
 */

export const NODES_TARGET = { totalMB: 500, perNodeKiB: 30 } as const;

export interface RssPoint {
  connected: number;
  rssMiB: number;
}

export interface NodesResult {
  nodes: number;
  enrollSeconds: number;
  connectSeconds: number;
  before: RssPoint;
  points: RssPoint[];
  healthP50Ms: number;
  healthMaxMs: number;
  signMs: number;
  signStatus: string;
  swarm: SwarmStatus;
  settleMs: number;
}

const ENROLL_CONCURRENCY = 32;

function rssMiB(pid: number): number {
  const mb = rssMb(pid);
  if (mb === null) throw new Error(`no VmRSS for process ${pid} (Linux /proc only)`);
  return mb;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Has the coordinator write a heap snapshot (SIGUSR2, written on its main thread): done when /health answers again. */
async function heapSnapshot(pid: number, httpUrl: string, dir: string, log: (line: string) => void): Promise<void> {
  await mkdir(dir, { recursive: true });
  process.kill(pid, 'SIGUSR2');
  await sleep(1_000);
  await waitFor('the heap snapshot', async () => ((await fetch(`${httpUrl}/health`)).ok ? true : undefined), 300_000, 500);
  log(`heap snapshot written to ${dir}`);
}

/** The forked swarm and its IPC, one request at a time. */
class Swarm {
  private readonly child: ChildProcess;
  private waiting: { resolve: (m: SwarmReply) => void; reject: (e: Error) => void } | null = null;
  private readonly output: string[] = [];

  constructor() {
    const script = fileURLToPath(new URL('./node-swarm.js', import.meta.url));
    this.child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 20) this.output.splice(0, this.output.length - 20);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.on('message', (m) => {
      const w = this.waiting;
      this.waiting = null;
      if (!w) return;
      const msg = m as SwarmReply;
      if (msg.type === 'error') w.reject(new Error(`node swarm: ${msg.message}`));
      else w.resolve(msg);
    });
    this.child.on('exit', (code) => this.waiting?.reject(new Error(`node swarm exited with ${code}: ${this.output.slice(-5).join(' | ')}`)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<T extends SwarmReply['type']>(message: SwarmMessage, expect: T): Promise<Extract<SwarmReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting = {
        resolve: (m) => (m.type === expect ? resolve(m as Extract<SwarmReply, { type: T }>) : reject(new Error(`node swarm: expected ${expect}, got ${m.type}`))),
        reject,
      };
      this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' } satisfies SwarmMessage);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function runNodesBench(databaseUrl: string, log: (line: string) => void): Promise<NodesResult> {
  const nodes = Number(process.env.BENCH_NODES ?? 10_000);
  const settleMs = Number(process.env.BENCH_NODES_SETTLE_MS ?? 10_000);
  const concurrency = Number(process.env.BENCH_NODES_CONCURRENCY ?? 64);
  const addresses = (process.env.BENCH_NODES_ADDRESSES ?? '127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5').split(',').map((a) => a.trim());
  const snapshots = process.env.BENCH_NODES_HEAP_SNAPSHOTS ? resolve(process.env.BENCH_NODES_HEAP_SNAPSHOTS) : null;
  const extraArgs = [
    ...(process.env.BENCH_NODES_COORDINATOR_ARGS ?? '').split(' ').filter(Boolean),
    ...(snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`] : []),
  ];
  // Headroom over what the swarm holds per address (plus the signers and the bench's own REST calls).
  const limit = String(Math.min(100_000, Math.ceil(nodes / addresses.length) + 1_000));

  const db = await createBenchDatabase(databaseUrl, (reason) => log(`no fresh database (${reason}): using DATABASE_URL itself`));
  const cluster = new LocalCluster({
    workDir: resolve('data/bench-nodes'),
    nodes: 3,
    databaseUrl: db.url,
    coordinatorEnv: { MAX_CONNECTIONS_PER_ADDRESS: limit, MAX_UNAUTHENTICATED_PER_ADDRESS: limit, REQUEST_TTL_MS: '120000' },
    coordinatorNodeArgs: [...coordinatorProfileArgs(), ...extraArgs],
    onStep: (t) => log(t),
  });
  const swarm = new Swarm();
  try {
    await cluster.start();
    const pid = cluster.coordinator!.process.pid!;
    const key = await cluster.dealKey('secp256k1', 2);
    const warm = await cluster.sign(key.id, 'bench nodes: warm-up', 'bench');
    if (warm.status !== 'completed') throw new Error(`warm-up signing ${warm.status}`);
    log(`coordinator pid ${pid}, swarm pid ${swarm.pid ?? '?'}, RSS ${rssMiB(pid).toFixed(0)} MiB after start, dealing and one signing`);

    const { publicKeys } = await swarm.call({ type: 'identities', count: nodes }, 'identities');
    const enrollStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: ENROLL_CONCURRENCY }, async () => {
        while (next < publicKeys.length) {
          const i = next++;
          await cluster.api('POST', '/v1/nodes', { publicKey: publicKeys[i], label: `sim-${i + 1}` });
        }
      }),
    );
    const enrollSeconds = (performance.now() - enrollStart) / 1000;
    log(`${nodes} identities enrolled over REST in ${enrollSeconds.toFixed(1)} s (${ENROLL_CONCURRENCY} at a time)`);

    await sleep(settleMs);
    const before: RssPoint = { connected: 0, rssMiB: rssMiB(pid) };
    log(`before connecting: RSS ${before.rssMiB.toFixed(1)} MiB`);
    if (snapshots) await heapSnapshot(pid, cluster.httpUrl, snapshots, log);

    const wsUrl = cluster.wsUrl;
    const steps = [...new Set([1_000, 5_000, nodes].filter((n) => n <= nodes))];
    const points: RssPoint[] = [];
    let status: SwarmStatus | null = null;
    let connectMs = 0;
    for (const upTo of steps) {
      const t0 = performance.now();
      status = await swarm.call({ type: 'connect', wsUrl, coordinatorId: cluster.coordinatorId, upTo, addresses, concurrency }, 'connected');
      connectMs += performance.now() - t0;
      if (status.failed > 0) throw new Error(`${status.failed} simulated node(s) failed to connect: ${status.failures.join('; ')}`);
      await sleep(settleMs);
      status = await swarm.call({ type: 'status' }, 'status');
      const point = { connected: status.open, rssMiB: rssMiB(pid) };
      points.push(point);
      log(
        `${point.connected} connected (${((performance.now() - t0 - settleMs) / 1000).toFixed(1)} s): RSS ${point.rssMiB.toFixed(1)} MiB, ` +
          `${(((point.rssMiB - before.rssMiB) * 1024) / point.connected).toFixed(1)} KiB per node`,
      );
    }

    if (snapshots) await heapSnapshot(pid, cluster.httpUrl, snapshots, log);
    const health: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await fetch(`${cluster.httpUrl}/health`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`/health answered ${res.status} with ${nodes} nodes connected`);
      health.push(performance.now() - t0);
    }
    health.sort((a, b) => a - b);
    const t0 = performance.now();
    const signed = await cluster.sign(key.id, `bench nodes: ${nodes} connected`, 'bench');
    const signMs = performance.now() - t0;
    log(`with ${nodes} connected: /health p50 ${percentile(health, 50).toFixed(1)} ms (max ${health.at(-1)!.toFixed(1)}), 2-of-3 signing ${signed.status} in ${signMs.toFixed(0)} ms`);
    status = await swarm.call({ type: 'status' }, 'status');
    return {
      nodes,
      enrollSeconds,
      connectSeconds: connectMs / 1000,
      before,
      points,
      healthP50Ms: percentile(health, 50),
      healthMaxMs: health.at(-1)!,
      signMs,
      signStatus: signed.status,
      swarm: status,
      settleMs,
    };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${cluster.lastOutput(10)}`);
  } finally {
    await swarm.stop();
    await cluster.stop();
    await db.drop().catch((e: unknown) => log(`could not drop the bench database: ${(e as Error).message}`));
  }
}

const perNodeKiB = (r: NodesResult, p: RssPoint) => ((p.rssMiB - r.before.rssMiB) * 1024) / p.connected;

/** The `<!-- bench:nodes -->` section of docs/benchmarks.md. */
export function nodesSection(r: NodesResult, machine: string): string {
  const last = r.points.at(-1)!;
  const totalMB = (last.rssMiB * 2 ** 20) / 1e6;
  const perNode = perNodeKiB(r, last);
  const okTotal = totalMB < NODES_TARGET.totalMB;
  const okPerNode = perNode <= NODES_TARGET.perNodeKiB;
  const frames = Object.entries(r.swarm.frames).map(([t, n]) => `${n} ${t}`).join(', ') || 'none';
  return [
    '<!-- bench:nodes -->',
    '## Many connected nodes (PostgreSQL server)',
    '',
    `Command: \`DATABASE_URL=postgres://… BENCH_PARTS=nodes npm run bench\` (BENCH_NODES=${r.nodes}), ${machine}.`,
    '',
    `The coordinator process with 3 real signer processes (a dealt 2-of-3 secp256k1 key), then ${r.nodes} Ed25519`,
    'identities enrolled over REST and connected as lightweight simulated nodes in one separate process',
    '(bench/src/node-swarm.ts: a WebSocket each, the real `auth.challenge`/`auth.response` handshake with a policy',
    'hash, then idle). Coordinator RSS is VmRSS after a settle of',
    `${(r.settleMs / 1000).toFixed(0)} s at each step; per node = (RSS at N − RSS before) / N. Enrolling took ${r.enrollSeconds.toFixed(0)} s, connecting ${r.connectSeconds.toFixed(0)} s.`,
    '',
    '| connected nodes | coordinator RSS MiB | per node KiB |',
    '|---:|---:|---:|',
    `| 0 (before) | ${r.before.rssMiB.toFixed(1)} | – |`,
    ...r.points.map((p) => `| ${p.connected} | ${p.rssMiB.toFixed(1)} | ${perNodeKiB(r, p).toFixed(1)} |`),
    '',
    `With all ${last.connected} connected: GET /health p50 **${r.healthP50Ms.toFixed(1)} ms** (of 20, max ${r.healthMaxMs.toFixed(1)} ms); one 2-of-3`,
    `signing request through the 3 real signers (POST + long-poll) ${r.signStatus} in **${r.signMs.toFixed(0)} ms**. Frames the simulated`,
    `nodes received after auth.ok: ${frames}; closed by the coordinator: ${Object.keys(r.swarm.closedAfterAuth).length ? JSON.stringify(r.swarm.closedAfterAuth) : 'none'}.`,
    '',
    `Verdict: total ${totalMB.toFixed(0)} MB ${okTotal ? '<' : '≥'} ${NODES_TARGET.totalMB} MB (${okTotal ? 'met' : 'missed'}); ` +
      `${perNode.toFixed(1)} KiB per node ${okPerNode ? '≤' : '>'} ${NODES_TARGET.perNodeKiB} KiB (${okPerNode ? 'met' : 'missed'}).`,
    '<!-- /bench:nodes -->',
  ].join('\n');
}

/** `BENCH_PARTS=nodes`: runs the part on PostgreSQL and writes its section; on the embedded database, says so and skips. */
export async function nodesPart(machine: () => string, writeSection: (kind: string, section: string) => Promise<void>): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.log('Many connected nodes: the figure is for PostgreSQL (set DATABASE_URL); skipped on the embedded database');
    return;
  }
  console.log(`Many connected nodes on one coordinator (PostgreSQL): ${process.env.BENCH_NODES ?? 10_000} simulated nodes`);
  try {
    const result = await runNodesBench(databaseUrl, (line) => console.log(`  ${line}`));
    await writeSection('nodes', nodesSection(result, machine()));
  } catch (e) {
    console.error(`nodes benchmark failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
