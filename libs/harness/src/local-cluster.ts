import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SuiteId } from '#protocol';
import { COORDINATOR_MAIN, freePort, runToEnd, SIGNER_MAIN, startProcess, stopProcess, waitFor, type Child } from './processes.js';

export interface LocalClusterOptions {
  /** Working directory for the coordinator's data and the nodes' keystores (wiped first). */
  workDir: string;
  nodes: number;
  /** When set, the coordinator uses this PostgreSQL; otherwise the embedded one in workDir. */
  databaseUrl?: string;
  /**
   * Coordinator instances on the one PostgreSQL (default 1; more need `databaseUrl`). Node i is given
   * every instance's URL, starting with instance i mod n, so the nodes spread over them and fail over.
   */
  instances?: number;
  /** Each node's approval rule, as `run` flags (`--approve-all` when neither this nor `nodeFlags` is given). */
  approvalFlags?: string[];
  /** Node `index`'s (0-based) approval flags, e.g. `['--policy', file]`; wins over `approvalFlags`. */
  nodeFlags?: (index: number, keystore: string) => string[];
  coordinatorEnv?: Record<string, string>;
  /** Extra Node.js flags for the coordinator process (e.g. `--cpu-prof`). */
  coordinatorNodeArgs?: string[];
  onStep?: (text: string) => void;
}

export interface DealtKeyInfo {
  id: string;
  suite: string;
  groupPublicKey: string;
  threshold: number;
}

/**
 * A coordinator and signer nodes as separate OS processes, started from the built CLI, exactly as an
 * operator would run them. Used by the demo and the benchmark.
 */
export class LocalCluster {
  readonly adminToken = randomBytes(24).toString('hex');
  readonly coordinatorId = `roundtable-${randomBytes(3).toString('hex')}`;
  httpUrl = '';
  wsUrl = '';
  /** Instance 0 (the only one by default). */
  coordinator: Child | null = null;
  /** Every instance's process, by index (a crashed one keeps its entry, exited). */
  readonly coordinators: Child[] = [];
  readonly httpUrls: string[] = [];
  readonly wsUrls: string[] = [];
  private nextApi = 0;
  readonly signers: Child[] = [];
  readonly keystores: string[] = [];
  /** Each node's identity public key (hex), as its `signer init` printed it: what its operator knows. */
  readonly identityKeys: string[] = [];
  readonly nodeIds: string[] = [];
  /** Each node's keystore passphrase, by index: given to its processes through ROUNDTABLE_PASSPHRASE. */
  readonly passphrases: string[] = [];

  constructor(private readonly options: LocalClusterOptions) {}

  private step(text: string): void {
    this.options.onStep?.(text);
  }

  /** A REST call to instance 0 (`instance` picks another; `'any'` goes round the live ones). */
  async api<T>(method: string, path: string, body?: unknown, instance: number | 'any' = 0): Promise<T> {
    const res = await fetch(`${this.httpUrlOf(instance)}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  private httpUrlOf(instance: number | 'any'): string {
    if (instance !== 'any') return this.httpUrls[instance] ?? this.httpUrl;
    const live = this.coordinators.map((c, i) => (c.process.exitCode === null && c.process.signalCode === null ? i : -1)).filter((i) => i >= 0);
    if (live.length === 0) throw new Error('no coordinator instance is running');
    return this.httpUrls[live[this.nextApi++ % live.length]!]!;
  }

  private workDir = '';
  private ports: number[] = [];

  /** Starts coordinator instance `index` on its port and the cluster's data, and waits until it is healthy. */
  private async launchCoordinator(index = 0): Promise<void> {
    const coordinator = startProcess(index === 0 ? 'coordinator' : `coordinator-${index + 1}`, COORDINATOR_MAIN, [], {
      PORT: String(this.ports[index]),
      HOST: '127.0.0.1',
      DATA_DIR: join(this.workDir, 'coordinator'),
      ROUNDTABLE_ADMIN_TOKEN: this.adminToken,
      COORDINATOR_ID: this.coordinatorId,
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.options.databaseUrl ?? '',
      ...this.options.coordinatorEnv,
    }, this.options.coordinatorNodeArgs ?? []);
    this.coordinators[index] = coordinator;
    if (index === 0) this.coordinator = coordinator;
    await waitFor(
      'the coordinator to be healthy',
      async () => {
        if (coordinator.process.exitCode !== null) throw new Error(`coordinator exited: ${coordinator.output.slice(-5).join(' | ')}`);
        return (await fetch(`${this.httpUrls[index]}/health`)).ok ? true : undefined;
      },
      60_000,
      200,
    );
  }

  /**
   * Kills the coordinator with SIGKILL (no shutdown of any kind) and starts a new one on the same port and
   * data: the signer processes reconnect by themselves.
   */
  async crashAndRestartCoordinator(): Promise<void> {
    await this.crashCoordinator(0);
    await this.launchCoordinator();
  }

  /** Kills instance `index` with SIGKILL and does not restart it: its nodes fail over to the others. */
  async crashCoordinator(index: number): Promise<void> {
    const old = this.coordinators[index];
    if (old && old.process.exitCode === null && old.process.signalCode === null) {
      old.process.kill('SIGKILL');
      await old.exited;
    }
  }

  /** Wipes workDir, runs `prepare` (to write files the nodes need), starts everything and waits until all nodes are connected. */
  async start(prepare?: () => Promise<void>): Promise<void> {
    const workDir = resolve(this.options.workDir);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    await prepare?.();
    const instances = this.options.instances ?? 1;
    if (instances > 1 && !this.options.databaseUrl) throw new Error('several coordinator instances need a PostgreSQL databaseUrl');
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      this.ports.push(port);
      this.httpUrls.push(`http://127.0.0.1:${port}`);
      this.wsUrls.push(`ws://127.0.0.1:${port}/v1/nodes/ws`);
    }
    this.httpUrl = this.httpUrls[0]!;
    this.wsUrl = this.wsUrls[0]!;

    this.step(
      this.options.databaseUrl
        ? `starting ${instances > 1 ? `${instances} coordinator instances` : 'the coordinator'} on PostgreSQL`
        : 'starting the coordinator on the embedded PostgreSQL',
    );
    this.workDir = workDir;
    for (let i = 0; i < instances; i++) await this.launchCoordinator(i);

    for (let i = 1; i <= this.options.nodes; i++) {
      const keystore = join(workDir, `node-${i}`);
      const passphrase = randomBytes(16).toString('hex');
      const out = JSON.parse(
        await runToEnd(`init node-${i}`, SIGNER_MAIN, ['init', '--keystore', keystore], signerEnv(passphrase)),
      ) as { publicKey: string };
      this.passphrases.push(passphrase);
      const node = await this.api<{ id: string }>('POST', '/v1/nodes', { publicKey: out.publicKey, label: `node-${i}` });
      this.keystores.push(keystore);
      this.identityKeys.push(out.publicKey);
      this.nodeIds.push(node.id);
      this.step(`node-${i}: identity ${out.publicKey.slice(0, 16)}…, enrolled as ${node.id}`);
    }

    for (const i of this.keystores.keys()) this.startSigner(i);
    await this.waitForConnected(this.nodeIds);
    this.step(`${this.options.nodes} of ${this.options.nodes} signer processes connected and authenticated`);
  }

  /**
   * Starts (or starts again, on the same keystore) the signer process of node `index` (0-based); it
   * replaces `signers[index]`. Does not wait for it to connect (see `waitForConnected`).
   */
  startSigner(index: number): Child {
    const keystore = this.keystores[index];
    if (keystore === undefined) throw new Error(`no node ${index}`);
    const child = startProcess(`node-${index + 1}`, SIGNER_MAIN, [
      'run',
      '--keystore',
      keystore,
      '--coordinator',
      // Every instance, starting with this node's own share of them.
      this.wsUrls.map((_, j) => this.wsUrls[(index + j) % this.wsUrls.length]).join(','),
      '--coordinator-id',
      this.coordinatorId,
      ...(this.options.nodeFlags?.(index, keystore) ?? this.options.approvalFlags ?? ['--approve-all']),
      '--log-level',
      'warn',
    ], signerEnv(this.passphrases[index]!));
    this.signers[index] = child;
    return child;
  }

  /** Stops the signer process of node `index` (SIGTERM: a clean shutdown) and waits for it to exit. */
  async stopSigner(index: number): Promise<number | null> {
    const child = this.signers[index];
    if (!child) throw new Error(`no signer process for node ${index}`);
    return stopProcess(child);
  }

  /** Waits until exactly the given nodes (ids) are connected to the coordinator and no other. */
  async waitForConnected(nodeIds: readonly string[], timeoutMs = 30_000): Promise<void> {
    const wanted = new Set(nodeIds);
    await waitFor(
      `exactly ${nodeIds.length} node(s) to be connected`,
      async () => {
        const nodes = await this.api<{ id: string; connected: boolean }[]>('GET', '/v1/nodes');
        const connected = nodes.filter((n) => n.connected).map((n) => n.id);
        return connected.length === wanted.size && connected.every((id) => wanted.has(id)) ? true : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Trusted dealer through the signer CLI: each share sealed to its node's identity into the node's
   * keystore inbox (no passphrase needed), the public package to the coordinator.
   */
  async dealKey(suite: SuiteId, threshold: number): Promise<DealtKeyInfo> {
    const out = await runToEnd('dealer', SIGNER_MAIN, [
      'dealer',
      '--coordinator',
      this.httpUrl,
      '--admin-token',
      this.adminToken,
      '--suite',
      suite,
      '--threshold',
      String(threshold),
      ...this.keystores.flatMap((k) => ['--keystore', k]),
    ]);
    const key = JSON.parse(out) as DealtKeyInfo;
    return { id: key.id, suite, groupPublicKey: key.groupPublicKey, threshold };
  }

  /** A distributed key generation among all nodes, run by the coordinator; resolves with the registered key. */
  async runCeremony(suite: SuiteId, threshold: number, onProgress?: (status: string) => void): Promise<DealtKeyInfo & { ceremonyId: string }> {
    const started = await this.api<{ id: string; keyId: string }>('POST', '/v1/ceremonies', { suite, threshold, nodeIds: this.nodeIds });
    let last = '';
    for (;;) {
      const c = await this.api<{ status: string; failureCode: string | null; failureReason: string | null }>('GET', `/v1/ceremonies/${started.id}`);
      if (c.status !== last) onProgress?.(c.status);
      last = c.status;
      if (c.status === 'failed') throw new Error(`ceremony failed: ${c.failureCode ?? ''} ${c.failureReason ?? ''}`);
      if (c.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const key = await this.api<{ id: string; groupPublicKey: string }>('GET', `/v1/keys/${started.keyId}`);
    return { id: key.id, suite, groupPublicKey: key.groupPublicKey, threshold, ceremonyId: started.id };
  }

  /** Runs a `signer` command for node `index` (its keystore passphrase in the environment); resolves with its stdout. */
  async signerCommand(index: number, args: string[]): Promise<string> {
    return runToEnd(`node-${index + 1} ${args[0] ?? ''}`, SIGNER_MAIN, args, signerEnv(this.passphrases[index]!));
  }

  /** Long-polls a request until it completes, fails, expires or is cancelled. */
  async waitForOutcome<T extends { status: string } = SignedRequest>(requestId: string): Promise<T> {
    for (;;) {
      const r = await this.api<T>('GET', `/v1/signing-requests/${requestId}?waitMs=30000`);
      if (['completed', 'failed', 'expired', 'cancelled'].includes(r.status)) return r;
    }
  }

  /** Creates a signing request (`message` as UTF-8 text or hex bytes) and waits (long-poll) until it completes, fails or expires. */
  async sign(keyId: string, message: string, description: string, encoding: 'utf8' | 'hex' = 'utf8'): Promise<SignedRequest> {
    const created = await this.api<{ id: string }>('POST', '/v1/signing-requests', { keyId, message, encoding, description });
    return this.waitForOutcome(created.id);
  }

  async stop(): Promise<{ name: string; code: number | null }[]> {
    const results: { name: string; code: number | null }[] = [];
    for (const child of [...this.signers].reverse()) results.push({ name: child.name, code: await stopProcess(child) });
    for (const c of this.coordinators) results.push({ name: c.name, code: await stopProcess(c) });
    return results;
  }

  /** The last lines each process printed, for diagnosing a failure. */
  lastOutput(lines = 20): string {
    return [...this.coordinators, ...this.signers]
      .map((c) => `--- ${c.name} ---\n${c.output.slice(-lines).join('\n')}`)
      .join('\n');
  }
}

/**
 * The environment of a signer process: its keystore passphrase, and the low scrypt cost meant for
 * tests and demos only (so that the demo and the benchmark start quickly; never for a real keystore).
 */
export const signerEnv = (passphrase: string): NodeJS.ProcessEnv => ({
  ROUNDTABLE_PASSPHRASE: passphrase,
  ROUNDTABLE_KDF_COST: 'test',
});

export interface SignedRequest {
  id: string;
  status: string;
  signature: string | null;
  groupPublicKey: string | null;
  attempts: { participants: string[]; status: string }[];
  failure: unknown;
}
