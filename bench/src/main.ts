import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { aggregateOrBlame, commit, dealKey, signShare, sortCommitments, utf8 } from '#crypto';
import { LocalCluster } from '#harness';
import { coordinatorProfileArgs, cpuMs, rssMb, runSessions, type SessionStats } from './common.js';
import { instanceCountsFromEnv, instancesSection, runInstancesBench } from './instances.js';
import { nodesPart } from './many-nodes.js';
import { roastSection, runRoastBench } from './roast.js';

/**
 * `npm run bench`: many 2-of-3 secp256k1 signing sessions through the real coordinator, real signer
 * processes, real WebSockets and the database, at several concurrency levels; and, in the same run, the
 * same signings done in-process with noble alone. Prints and writes docs/benchmarks.md.
 *
 * Settings (environment): BENCH_SESSIONS (per level, default 200), BENCH_LEVELS (default "1,4,16"),
 * DATABASE_URL (a PostgreSQL to use instead of the embedded one), BENCH_OUT (default docs/benchmarks.md),
 * BENCH_PARTS (default "throughput,roast", plus "instances" when DATABASE_URL is set): the 2-of-3 throughput
 * part, the ROAST-under-faults part (bench/src/roast.ts, which has its own BENCH_ROAST_* settings and always
 * uses the embedded database) and the several-instances part (bench/src/instances.ts: BENCH_INSTANCES,
 * default "1,2,3", at the highest of BENCH_LEVELS; PostgreSQL only). `nodes` runs only when asked
 * (BENCH_PARTS=nodes): many connected simulated nodes on one coordinator and its RSS (bench/src/many-nodes.ts,
 * BENCH_NODES_* settings; PostgreSQL only).
 */
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,4,16').split(',').map(Number);
const OUT = resolve(process.env.BENCH_OUT ?? 'docs/benchmarks.md');
const PARTS = new Set((process.env.BENCH_PARTS ?? `throughput,roast${process.env.DATABASE_URL ? ',instances' : ''}`).split(',').map((p) => p.trim()));
const machine = () => `${new Date().toISOString()}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

interface LevelResult extends SessionStats {
  concurrency: number;
  cpuMsPerSession: number | null;
  rssMb: number | null;
}


/** The cryptography alone: 2 commits, 2 signShares, one aggregate (which verifies), per session. */
function inProcessBaseline(sessions: number): { perSecond: number; msPerSession: number } {
  const key = dealKey('secp256k1', 2, 3);
  const ids = Object.keys(key.secretShares).slice(0, 2);
  const start = performance.now();
  for (let i = 0; i < sessions; i++) {
    const msg = utf8(`baseline ${i}`);
    const rounds = ids.map((id) => ({ id, ...commit('secp256k1', id, key.secretShares[id]!) }));
    const list = sortCommitments('secp256k1', rounds.map((r) => r.commitment));
    const shares = Object.fromEntries(rounds.map((r) => [r.id, signShare(key.public, r.id, key.secretShares[r.id]!, r.nonces, list, msg)]));
    const result = aggregateOrBlame(key.public, list, msg, shares);
    if (!result.ok) throw new Error('baseline signing failed');
  }
  const ms = performance.now() - start;
  return { perSecond: (sessions * 1000) / ms, msPerSession: ms / sessions };
}

async function runLevel(cluster: LocalCluster, keyId: string, concurrency: number, sessions: number): Promise<LevelResult> {
  const pid = cluster.coordinator!.process.pid!;
  const cpuBefore = cpuMs(pid);
  const stats = await runSessions(concurrency, sessions, async (n) => (await cluster.sign(keyId, `bench c${concurrency} #${n}`, 'bench')).status === 'completed');
  const cpuAfter = cpuMs(pid);
  return {
    concurrency,
    ...stats,
    cpuMsPerSession: cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / sessions : null,
    rssMb: rssMb(pid),
  };
}

/** The throughput part's ratio (best end to end / in-process noble), printed again on the bench's last line. */
let ratio: number | null = null;

async function throughput(): Promise<void> {
  const database = process.env.DATABASE_URL ? 'PostgreSQL server (DATABASE_URL)' : 'embedded PostgreSQL (PGlite)';
  console.log(`Roundtable benchmark: 2-of-3 secp256k1, ${SESSIONS} sessions per level, concurrency ${LEVELS.join(', ')}, ${database}`);
  const cluster = new LocalCluster({
    workDir: resolve('data/bench'),
    nodes: 3,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    coordinatorEnv: { REQUEST_TTL_MS: '120000' },
    coordinatorNodeArgs: coordinatorProfileArgs(),
    onStep: (t) => console.log(`  ${t}`),
  });
  const results: LevelResult[] = [];
  let baseline: { perSecond: number; msPerSession: number };
  try {
    await cluster.start();
    const key = await cluster.dealKey('secp256k1', 2);
    await runLevel(cluster, key.id, 2, 10); // warm-up: JIT, connection pools, caches
    for (const level of LEVELS) {
      const r = await runLevel(cluster, key.id, level, SESSIONS);
      results.push(r);
      console.log(
        `  concurrency ${String(level).padStart(3)}: ${r.perSecond.toFixed(1)} sessions/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, coordinator CPU ${r.cpuMsPerSession?.toFixed(2) ?? 'n/a'} ms/session, RSS ${r.rssMb?.toFixed(0) ?? 'n/a'} MB, failed ${r.failed}`,
      );
    }
    baseline = inProcessBaseline(Math.max(SESSIONS, 200));
    console.log(`  in-process noble only: ${baseline.perSecond.toFixed(1)} sessions/s (${baseline.msPerSession.toFixed(2)} ms per session, one core)`);
  } catch (e) {
    console.error(`benchmark failed: ${(e as Error).message}\n${cluster.lastOutput()}`);
    process.exitCode = 1;
    return;
  } finally {
    await cluster.stop();
  }

  const best = Math.max(...results.map((r) => r.perSecond));
  const kind = process.env.DATABASE_URL ? 'postgres' : 'embedded';
  const section = [
    `<!-- bench:${kind} -->`,
    `## ${database}`,
    '',
    `Command: \`${process.env.DATABASE_URL ? 'DATABASE_URL=postgres://… ' : ''}npm run bench\` (${SESSIONS} sessions per level), ${machine()}.`,
    '',
    '| concurrency | sessions/s | p50 ms | p95 ms | p99 ms | coordinator CPU ms/session | coordinator RSS MB | failed |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.concurrency} | ${r.perSecond.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuMsPerSession?.toFixed(2) ?? 'n/a'} | ${r.rssMb?.toFixed(0) ?? 'n/a'} | ${r.failed} |`,
    ),
    '',
    `In-process noble only, same run: **${baseline.perSecond.toFixed(1)} sessions/s** (${baseline.msPerSession.toFixed(2)} ms per session, one core).`,
    `Best end-to-end throughput: **${((best / baseline.perSecond) * 100).toFixed(0)}%** of it (ratio ${(best / baseline.perSecond).toFixed(2)}).`,
    `<!-- /bench:${kind} -->`,
  ].join('\n');
  ratio = best / baseline.perSecond;
  await writeSection(kind, section);
}

/** Replaces (or appends) the section between `<!-- bench:${kind} -->` markers in BENCH_OUT. */
async function writeSection(kind: string, section: string): Promise<void> {
  const header = [
    '# Benchmarks',
    '',
    '`npm run bench` runs many 2-of-3 secp256k1 signing sessions through the real coordinator process, three real',
    'signer processes, real WebSockets and the database, at several concurrency levels (`BENCH_SESSIONS`,',
    '`BENCH_LEVELS`; `DATABASE_URL` for a PostgreSQL server instead of the embedded one). A session is',
    '`POST /v1/signing-requests` then a long-poll `GET …?waitMs=` until it completes; latency runs from the POST',
    'to the answer carrying the verified signature. Coordinator CPU is its user+system time over a level divided',
    'by its sessions (the embedded database runs inside the coordinator, so its CPU counts there). The baseline',
    'signs the same way in-process with noble alone (two commits, two shares, one aggregate that verifies) in the',
    'same run. Client, coordinator, database and the three signers all share the machine\'s cores. Each run',
    'replaces its own section below.',
    '',
  ].join('\n');
  let existing = '';
  try {
    existing = await readFile(OUT, 'utf8');
  } catch {
    existing = '';
  }
  const marker = new RegExp(`<!-- bench:${kind} -->[\\s\\S]*?<!-- /bench:${kind} -->`);
  const body = existing.includes('# Benchmarks') ? existing : header;
  const next = marker.test(body) ? body.replace(marker, section) : `${body.trimEnd()}\n\n${section}\n`;
  await mkdir(dirname(OUT), { recursive: true });
  await writeFile(OUT, next.endsWith('\n') ? next : `${next}\n`);
  console.log(`\nwritten to ${OUT}`);
}

async function main(): Promise<void> {
  if (PARTS.has('throughput')) await throughput();
  if (process.exitCode) return;
  if (PARTS.has('roast')) {
    console.log('ROAST under faults: time to signature with n-t silent or invalid-share signers (coordinated)');
    try {
      const { results, staggerMs } = await runRoastBench((line) => console.log(`  ${line}`));
      await writeSection('roast', roastSection(results, staggerMs, machine()));
    } catch (e) {
      console.error(`ROAST benchmark failed: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  }
  if (process.exitCode) return;
  if (PARTS.has('instances')) await instancesPart();
  if (process.exitCode) return;
  if (PARTS.has('nodes')) await nodesPart(machine, writeSection);
  if (ratio !== null) console.log(`\nratio ${ratio.toFixed(2)} (best end-to-end 2-of-3 sessions/s over the in-process noble loop, ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PostgreSQL'})`);
}

async function instancesPart(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.log('Several coordinator instances: needs a PostgreSQL server (DATABASE_URL); skipped on the embedded database');
    return;
  }
  const settings = { instanceCounts: instanceCountsFromEnv(), sessions: SESSIONS, concurrency: Math.max(...LEVELS), databaseUrl };
  console.log(`Several coordinator instances: ${settings.instanceCounts.join(', ')} instance(s), ${SESSIONS} sessions at concurrency ${settings.concurrency}, PostgreSQL server`);
  try {
    const results = await runInstancesBench(settings, (line) => console.log(`  ${line}`));
    await writeSection('instances', instancesSection(results, settings, machine()));
  } catch (e) {
    console.error(`instances benchmark failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

void main();
