import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dealKey, utf8 } from '#crypto';
import { LocalCluster, waitFor, type Fault } from '#harness';
import { initKeystore, KDF_COSTS, runDealer, type KeyShare } from '#signer';
import { verifyIndependently } from '#verify';
import { coordinatorProfileArgs, percentile } from './common.js';

/**
 * ROAST under faults (issue 4 §4): time from request creation to a verified signature for t-of-n
 * secp256k1 keys (dealer) with n-t silent signers and with n-t signers sending invalid shares, against
 * the fault-free time in the same run. The coordinator runs as its own process (embedded database);
 * the n signer nodes run in-process in two bench signer hosts (bench/src/signer-host.ts, one per core),
 * each node behind a FaultProxy that applies the fault.
 *
 * Faults are coordinated, the hard way: the faulty nodes' commitments reach the coordinator first, so
 * all of them are in the first attempt. The honest nodes' frames are held back by a gate
 * (BENCH_ROAST_GATE_MS) until their first signing package; the gate's cost is shown by the
 * "fault-free, gated" row (same ordering, no fault).
 *
 * Settings: BENCH_ROAST_SESSIONS_15 (default 5), BENCH_ROAST_SESSIONS_100 (default 3),
 * BENCH_ROAST_CONFIGS (default "11-of-15,67-of-100"), BENCH_ROAST_STAGGER_MS (the coordinator's
 * ATTEMPT_STAGGER_MS, default 500, its own default), BENCH_ROAST_GATE_MS (default 100 ms + 10 ms per node),
 * BENCH_ROAST_SIGNER (node | service, default node: see signer-host.ts).
 */

export interface RoastConfig {
  t: number;
  n: number;
  sessions: number;
}

type ScenarioId = 'fault-free' | 'fault-free-gated' | 'silent' | 'invalid-share';

interface Scenario {
  id: ScenarioId;
  label: string;
  fault: Fault | null;
  gated: boolean;
}

const SCENARIOS: Scenario[] = [
  { id: 'fault-free', label: 'fault-free', fault: null, gated: false },
  { id: 'fault-free-gated', label: 'fault-free, gated (faulty-to-be commit first)', fault: null, gated: true },
  { id: 'silent', label: 'n-t silent (coordinated)', fault: { kind: 'silent' }, gated: true },
  { id: 'invalid-share', label: 'n-t invalid shares (coordinated)', fault: { kind: 'invalid-share' }, gated: true },
];

export interface SessionResult {
  ms: number;
  attempts: number;
  /** Every faulty node was a participant of the first attempt. */
  coordinated: boolean;
  culprits: Record<string, number>;
}

export interface ScenarioResult {
  scenario: Scenario;
  faulty: number;
  sessions: SessionResult[];
  failed: string[];
  median: number;
  p95: number;
}

export interface ConfigResult {
  config: RoastConfig;
  gateMs: number;
  /** Dealing the key and registering it with the coordinator (which checks the public package). */
  dealSeconds: number;
  mode: SignerMode;
  scenarios: ScenarioResult[];
}

/** The ROAST paper's prototype (Ruffing, Ronge, Jin, Schneider-Bensch, Schröder, CCS 2022), as quoted in issue 4. */
const PAPER: Record<string, { uncoordinated: number; coordinated: number }> = {
  '11-of-15': { uncoordinated: 0.6, coordinated: 1 },
  '67-of-100': { uncoordinated: 0.7, coordinated: 7 },
};

/**
 * How the signer hosts run a node (see signer-host.ts): a real SignerNode (`node`), or the signer's
 * SigningService and NonceStore behind a minimal WebSocket shell with the share in memory (`service`).
 * BENCH_ROAST_SIGNER=node|service, default node.
 */
type SignerMode = 'node' | 'service';
const signerMode = (): SignerMode => (process.env.BENCH_ROAST_SIGNER === 'service' ? 'service' : 'node');


export function roastSettings(): { configs: RoastConfig[]; staggerMs: number; gateMs: (n: number) => number } {
  const sessions15 = Number(process.env.BENCH_ROAST_SESSIONS_15 ?? 5);
  const sessions100 = Number(process.env.BENCH_ROAST_SESSIONS_100 ?? 3);
  const configs = (process.env.BENCH_ROAST_CONFIGS ?? '11-of-15,67-of-100').split(',').map((spec): RoastConfig => {
    const m = /^(\d+)-of-(\d+)$/.exec(spec.trim());
    if (!m) throw new Error(`BENCH_ROAST_CONFIGS: "${spec}" is not t-of-n`);
    const t = Number(m[1]);
    const n = Number(m[2]);
    return { t, n, sessions: n > 50 ? sessions100 : sessions15 };
  });
  const staggerMs = Number(process.env.BENCH_ROAST_STAGGER_MS ?? 500);
  const gate = process.env.BENCH_ROAST_GATE_MS;
  return { configs, staggerMs, gateMs: (n) => (gate !== undefined ? Number(gate) : 100 + 10 * n) };
}

/** One forked signer host and its IPC, one request at a time. */
class SignerHost {
  private readonly child: ChildProcess;
  private readonly waiting: { type: string; resolve: (m: HostReply) => void; reject: (e: Error) => void }[] = [];
  readonly output: string[] = [];

  constructor(readonly name: string) {
    const script = fileURLToPath(new URL('./signer-host.js', import.meta.url));
    this.child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 50) this.output.splice(0, this.output.length - 50);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.child.on('message', (raw) => {
      const msg = raw as HostReply;
      const waiter = this.waiting.shift();
      if (!waiter) return;
      if (msg.type === 'error') waiter.reject(new Error(`${this.name}: ${msg.message ?? 'error'}`));
      else if (msg.type !== waiter.type) waiter.reject(new Error(`${this.name}: expected ${waiter.type}, got ${msg.type}`));
      else waiter.resolve(msg);
    });
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`${this.name} exited with ${code}: ${this.output.slice(-5).join(' | ')}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call(message: Record<string, unknown>, expect: string): Promise<HostReply> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ type: expect, resolve, reject });
      this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || !this.child.connected) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    try {
      await this.call({ type: 'stop' }, 'stopped');
    } catch {
      this.child.kill('SIGKILL');
    }
    await exited;
    clearTimeout(timer);
  }
}

type HostReply = { type: string; message?: string; problems?: string[] };

interface RequestView {
  id: string;
  status: string;
  signature: string | null;
  culprits: { nodeId: string; reason: string }[];
  attempts: { id: string; seq: number; participants: string[]; status: string }[];
  failure: { code: string; reason: string } | null;
}

const FINAL = ['completed', 'failed', 'expired', 'cancelled'];

/** Runs one configuration: a coordinator, n nodes in two hosts, a dealt key, every scenario. */
async function runConfig(config: RoastConfig, staggerMs: number, gateMs: number, log: (line: string) => void): Promise<ConfigResult> {
  const { t, n } = config;
  const mode = signerMode();
  const workDir = resolve(`data/bench-roast-${t}of${n}`);
  const cluster = new LocalCluster({
    workDir,
    nodes: 0,
    coordinatorEnv: { ATTEMPT_STAGGER_MS: String(staggerMs), REQUEST_TTL_MS: '120000', LOG_LEVEL: 'error' },
    coordinatorNodeArgs: coordinatorProfileArgs(),
  });
  const hosts = [new SignerHost('signer-host-1'), new SignerHost('signer-host-2')];
  try {
    await cluster.start();
    const keystores: string[] = [];
    const passphrases: string[] = [];
    const nodeIds: string[] = [];
    for (let i = 0; i < n; i++) {
      const keystore = join(workDir, `node-${i + 1}`);
      const passphrase = randomBytes(16).toString('hex');
      const { publicKey } = await initKeystore({ keystore, passphrase, kdfCost: KDF_COSTS.test });
      const node = await cluster.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` });
      keystores.push(keystore);
      passphrases.push(passphrase);
      nodeIds.push(node.id);
    }
    const keyId = randomUUID();
    const dealStart = performance.now();
    const shares: (KeyShare | undefined)[] = [];
    if (mode === 'service') {
      // Dealt here; the nodes get their share in memory (see signer-host.ts), the coordinator the public package.
      const dealt = dealKey('secp256k1', t, n);
      const identifiers = Object.keys(dealt.public.verifyingShares);
      await cluster.api('POST', '/v1/keys', {
        id: keyId,
        suite: 'secp256k1',
        threshold: t,
        maxSigners: n,
        commitments: dealt.public.commitments,
        verifyingShares: dealt.public.verifyingShares,
        members: nodeIds.map((nodeId, i) => ({ nodeId, identifier: identifiers[i] })),
      });
      for (const identifier of identifiers) {
        shares.push({ keyId, suite: 'secp256k1', identifier, signingShare: dealt.secretShares[identifier]!, publicPackage: dealt.public });
      }
    } else {
      try {
        await runDealer({ coordinatorUrl: cluster.httpUrl, adminToken: cluster.adminToken, suite: 'secp256k1', threshold: t, keystores, keyId });
      } catch (e) {
        // The dealer gives the coordinator 15 s to register the key; checking a large public package (every
        // verifying share against the VSS commitment, O(n·t) point multiplications) can take longer. The
        // coordinator finishes it anyway, and the sealed shares stay in the inboxes.
        if (!/may or may not be registered/.test((e as Error).message)) throw e;
        log(`${t}-of-${n}: the dealer's key registration timed out; waiting for the coordinator to finish it`);
      }
    }
    const key = await waitFor(
      'the key to be registered',
      async () => cluster.api<{ id: string; groupPublicKey: string }>('GET', `/v1/keys/${keyId}`).catch(() => undefined),
      300_000,
      1000,
    );
    const dealSeconds = (performance.now() - dealStart) / 1000;
    log(`${t}-of-${n}: coordinator up, ${n} keystores enrolled, key dealt and registered in ${dealSeconds.toFixed(1)} s; starting ${n} signer nodes (${mode}) in ${hosts.length} hosts`);

    // Node i lives in host i % 2; the faulty nodes are 0 .. n-t-1 (spread over both hosts).
    await Promise.all(
      hosts.map((host, h) =>
        host.call(
          {
            type: 'start',
            coordinatorUrl: cluster.wsUrl,
            coordinatorId: cluster.coordinatorId,
            nodes: keystores
              .map((keystore, index) => ({ index, keystore, passphrase: passphrases[index]!, ...(shares[index] ? { share: shares[index] } : {}) }))
              .filter((x) => x.index % hosts.length === h),
          },
          'started',
        ),
      ),
    );
    await cluster.waitForConnected(nodeIds, 60_000);
    const faultyIds = nodeIds.slice(0, n - t);

    const session = async (scenario: Scenario, label: string): Promise<SessionResult> => {
      const faults = scenario.fault ? Object.fromEntries(faultyIds.map((_, i) => [String(i), scenario.fault])) : {};
      const replies = await Promise.all(hosts.map((h) => h.call({ type: 'faults', faults, gateMs: scenario.gated ? gateMs : 0 }, 'faults-set')));
      const problems = replies.flatMap((r) => r.problems ?? []);
      if (problems.length > 0) throw new Error(`fault proxies: ${problems.join('; ')}`);
      const message = `roast bench ${t}-of-${n} ${label}`;
      const t0 = performance.now();
      const created = await cluster.api<{ id: string }>('POST', '/v1/signing-requests', { keyId: key.id, message, description: 'roast bench' });
      let view: RequestView;
      do view = await cluster.api<RequestView>('GET', `/v1/signing-requests/${created.id}?waitMs=60000`);
      while (!FINAL.includes(view.status));
      const ms = performance.now() - t0;
      if (view.status !== 'completed') throw new Error(`request ${view.id} ${view.status}: ${view.failure?.code ?? ''} ${view.failure?.reason ?? ''}`);
      if (!(await verifyIndependently('secp256k1', view.signature!, utf8(message), key.groupPublicKey))) throw new Error(`request ${view.id}: the signature does not verify`);
      const first = view.attempts.find((a) => a.seq === 1);
      const culprits: Record<string, number> = {};
      for (const c of view.culprits) culprits[c.reason] = (culprits[c.reason] ?? 0) + 1;
      return {
        ms,
        attempts: view.attempts.length,
        coordinated: !!first && faultyIds.every((id) => first.participants.includes(id)),
        culprits,
      };
    };

    await session(SCENARIOS[0]!, 'warm-up');
    const scenarios: ScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      const sessions: SessionResult[] = [];
      const failed: string[] = [];
      for (let s = 0; s < config.sessions; s++) {
        try {
          sessions.push(await session(scenario, `${scenario.id} #${s}`));
        } catch (e) {
          failed.push((e as Error).message);
        }
      }
      const sorted = sessions.map((x) => x.ms).sort((a, b) => a - b);
      const result: ScenarioResult = {
        scenario,
        faulty: scenario.fault ? n - t : 0,
        sessions,
        failed,
        median: percentile(sorted, 50),
        p95: percentile(sorted, 95),
      };
      scenarios.push(result);
      log(
        `${t}-of-${n} ${scenario.label}: median ${(result.median / 1000).toFixed(2)} s, p95 ${(result.p95 / 1000).toFixed(2)} s, ` +
          `attempts ${sessions.map((x) => x.attempts).join('/')}, faulty all in attempt 1: ${sessions.filter((x) => x.coordinated).length}/${sessions.length}` +
          (failed.length ? `, FAILED ${failed.length}: ${failed[0]}` : ''),
      );
    }
    return { config, gateMs, dealSeconds, mode, scenarios };
  } catch (e) {
    const tail = [cluster.lastOutput(10), ...hosts.map((h) => `--- ${h.name} ---\n${h.output.slice(-10).join('\n')}`)].join('\n');
    throw new Error(`${(e as Error).message}\n${tail}`);
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    await cluster.stop();
  }
}

/** Runs every configuration; returns the results (printing progress). */
export async function runRoastBench(log: (line: string) => void): Promise<{ results: ConfigResult[]; staggerMs: number }> {
  const { configs, staggerMs, gateMs } = roastSettings();
  const results: ConfigResult[] = [];
  for (const config of configs) results.push(await runConfig(config, staggerMs, gateMs(config.n), log));
  return { results, staggerMs };
}

const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a');

/** The markdown section (between its markers) for docs/benchmarks.md. */
export function roastSection(results: ConfigResult[], staggerMs: number, machine: string): string {
  const lines = [
    '<!-- bench:roast -->',
    '## ROAST under faults',
    '',
    `Command: \`npm run bench\` (ROAST part; \`BENCH_ROAST_*\`), ${machine}. Coordinator process on the embedded`,
    `PostgreSQL with \`ATTEMPT_STAGGER_MS=${staggerMs}\`; the n signer nodes run in-process in two bench signer hosts`,
    '(`bench/src/signer-host.ts`, one per core), each node behind a `FaultProxy` (`libs/harness/src/fault-proxy.ts`)',
    'that applies its fault. Each node is a real `SignerNode` on its own keystore, with its dealer share',
    '(`BENCH_ROAST_SIGNER=service` runs the signer\'s `SigningService` and `NonceStore` behind a minimal socket instead).',
    'secp256k1, trusted-dealer key. Time runs from `POST /v1/signing-requests` to the',
    'long-poll answer carrying the signature, which the bench verifies. Faults are coordinated the hard way: the',
    'n-t faulty nodes commit first and are all in the first attempt (the honest nodes are held back by a gate',
    'until their first signing package; the "gated" fault-free row measures the same ordering without a fault).',
    '"× fault-free" divides the median by the plain fault-free median of the same run.',
    '',
  ];
  for (const r of results) {
    const name = `${r.config.t}-of-${r.config.n}`;
    const base = r.scenarios.find((s) => s.scenario.id === 'fault-free')?.median ?? NaN;
    lines.push(
      `### ${name} (${r.config.sessions} sessions per scenario, gate ${r.gateMs} ms, signers: ${r.mode === 'node' ? 'SignerNode' : 'SigningService shell'})`,
      '',
      '| scenario | faulty | median s | p95 s | attempts per session | × fault-free | faulty all in attempt 1 | culprits (per session) | failed |',
      '|---|---:|---:|---:|---|---:|---:|---|---:|',
    );
    for (const s of r.scenarios) {
      const attempts = s.sessions.map((x) => x.attempts).join(', ');
      const culprits = [...new Set(s.sessions.map((x) => Object.entries(x.culprits).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'))].join(' / ');
      const coordinated = s.faulty > 0 || s.scenario.gated ? `${s.sessions.filter((x) => x.coordinated).length}/${s.sessions.length}` : '–';
      lines.push(
        `| ${s.scenario.label} | ${s.faulty} | ${seconds(s.median)} | ${seconds(s.p95)} | ${attempts} | ${(s.median / base).toFixed(2)} | ${coordinated} | ${culprits} | ${s.failed.length} |`,
      );
    }
    const paper = PAPER[name];
    if (paper) {
      lines.push(
        '',
        `ROAST paper prototype, ${name}: ${paper.uncoordinated} s with uncoordinated faults, ${paper.coordinated} s with coordinated faults.`,
      );
    }
    lines.push('', `Dealing the key and registering it (the coordinator checks every verifying share) took ${r.dealSeconds.toFixed(1)} s.`);
    const failures = r.scenarios.flatMap((s) => s.failed.map((f) => `${s.scenario.label}: ${f.split('\n')[0]}`));
    if (failures.length > 0) lines.push('', 'Failed sessions:', ...failures.map((f) => `- ${f}`));
    lines.push('');
  }
  lines.push('<!-- /bench:roast -->');
  return lines.join('\n');
}
