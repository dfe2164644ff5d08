import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorConfig } from '#coordinator';
import type { SuiteId } from '#crypto';
import { AttemptBoard, FaultProxy, type CrashEvent, type Fault } from '#harness';
import { initKeystore, KDF_COSTS, runDealer, type NodePolicy, type SignerNode } from '#signer';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './coordinator.js';
import { realSignerNode } from './signer-node.js';

/** `GET /v1/signing-requests/:id` as the fault suite reads it. */
export interface RequestView {
  id: string;
  status: string;
  signature: string | null;
  groupPublicKey: string | null;
  culprits: { nodeId: string; reason: string; attemptId?: string | null; detail?: string | null }[];
  attempts: { id: string; seq: number; participants: string[]; status: string; failureReason?: string | null }[];
  failure: { code: string; reason: string } | null;
}

export interface FaultClusterOptions {
  nodes: number;
  threshold: number;
  /** Default secp256k1. */
  suite?: SuiteId;
  /** Coordinator config overrides (e.g. `attemptStaggerMs`); ignored with `sharedCoordinator`. */
  coordinator?: Partial<CoordinatorConfig>;
  /** Use this running coordinator (left running by `stop()`) instead of starting one. */
  sharedCoordinator?: TestCoordinator;
  /** Every node's policy (default: allow everything). */
  policy?: NodePolicy;
}

const FINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/**
 * The real coordinator in-process (its own database) and `nodes` real SignerNodes, each connected
 * through its own {@link FaultProxy}, holding a dealt `threshold`-of-`nodes` key. A `crash` fault stops
 * the node at once (no answer leaves: the proxy already cut it off) and starts a new SignerNode on the
 * same keystore, which reconnects through the same proxy.
 */
export class FaultCluster {
  coord!: TestCoordinator;
  readonly board = new AttemptBoard();
  readonly proxies: FaultProxy[] = [];
  /** The currently running SignerNode of each index. */
  readonly nodes: (SignerNode | undefined)[] = [];
  readonly nodeIds: string[] = [];
  /** Each node's FROST identifier in the dealt key (by index). */
  readonly identifiers: string[] = [];
  readonly crashes: (CrashEvent & { index: number })[] = [];
  key!: { id: string; groupPublicKey: string; suite: SuiteId; threshold: number };

  private root = '';
  private readonly keystores: string[] = [];
  private readonly passphrases: string[] = [];
  private readonly restarts = new Set<Promise<void>>();
  private readonly restartErrors: Error[] = [];
  private stopped = false;

  private constructor(private readonly options: FaultClusterOptions) {}

  static async start(options: FaultClusterOptions): Promise<FaultCluster> {
    const cluster = new FaultCluster(options);
    try {
      await cluster.boot();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  get n(): number {
    return this.options.nodes;
  }
  get t(): number {
    return this.options.threshold;
  }

  private async boot(): Promise<void> {
    const { nodes: n, threshold: t } = this.options;
    const suite = this.options.suite ?? 'secp256k1';
    this.root = await mkdtemp(join(tmpdir(), `roundtable-faults-${t}of${n}-`));
    this.coord = this.options.sharedCoordinator ?? (await startTestCoordinator({ requestTtlMs: 30_000, ...this.options.coordinator }));
    for (let i = 0; i < n; i++) {
      const dir = join(this.root, `node-${i + 1}`);
      const passphrase = `fault cluster node ${i + 1}`;
      const { publicKey } = await initKeystore({ keystore: dir, passphrase, kdfCost: KDF_COSTS.test });
      const res = await this.coord.api<{ id: string }>('POST', '/v1/nodes', { publicKey, label: `node-${i + 1}` });
      if (res.status !== 201) throw new Error(`enrolling node-${i + 1}: HTTP ${res.status}`);
      this.keystores.push(dir);
      this.passphrases.push(passphrase);
      this.nodeIds.push(res.body.id);
    }
    const dealt = await runDealer({ coordinatorUrl: this.coord.httpUrl, adminToken: ADMIN_TOKEN, suite, threshold: t, keystores: this.keystores });
    for (const dir of this.keystores) {
      const member = dealt.members.find((m) => m.keystore === dir);
      if (!member) throw new Error(`the dealer returned no member for ${dir}`);
      this.identifiers.push(member.identifier);
    }
    const key = await this.coord.api<{ id: string; groupPublicKey: string }>('GET', `/v1/keys/${dealt.keyId}`);
    this.key = { id: key.body.id, groupPublicKey: key.body.groupPublicKey, suite, threshold: t };

    for (let i = 0; i < n; i++) {
      const proxy = await FaultProxy.start({
        target: this.coord.wsUrl,
        label: `node-${i + 1}`,
        board: this.board,
        onCrash: (event) => this.restart(i, event),
      });
      proxy.identifier = this.identifiers[i];
      this.proxies.push(proxy);
    }
    await Promise.all(this.proxies.map((_, i) => this.startNode(i)));
    await this.waitConnected();
  }

  private async startNode(i: number): Promise<SignerNode> {
    const node = realSignerNode(this.coord, this.keystores[i]!, this.passphrases[i]!, {
      coordinatorUrl: this.proxies[i]!.url,
      ...(this.options.policy ? { policy: this.options.policy } : {}),
    });
    this.nodes[i] = node;
    await node.start();
    return node;
  }

  /** The proxy cut node i off: stop that SignerNode (its socket is already useless) and start a new one. */
  private restart(i: number, event: CrashEvent): void {
    this.crashes.push({ ...event, index: i });
    const old = this.nodes[i];
    this.nodes[i] = undefined;
    const stopping = old?.stop() ?? Promise.resolve();
    const done = (async () => {
      await stopping;
      if (this.stopped) return;
      await this.startNode(i);
    })().catch((e: Error) => {
      this.restartErrors.push(e);
    });
    this.restarts.add(done);
    void done.finally(() => this.restarts.delete(done));
  }

  /** Waits until every crashed node has been restarted and reconnected. */
  async settled(): Promise<void> {
    while (this.restarts.size > 0) await Promise.all([...this.restarts]);
    if (this.restartErrors.length > 0) throw new Error(`restarting a node failed: ${this.restartErrors.map((e) => e.message).join('; ')}`);
    await this.waitConnected();
  }

  /** Waits until the coordinator lists every node as connected. */
  async waitConnected(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const nodes = (await this.coord.api<{ id: string; connected: boolean }[]>('GET', '/v1/nodes')).body;
      const connected = new Set(nodes.filter((n) => n.connected).map((n) => n.id));
      if (this.nodeIds.every((id) => connected.has(id)) && this.proxies.every((p) => p.connected)) return;
      if (Date.now() > until) throw new Error(`nodes not connected: ${this.nodeIds.filter((id) => !connected.has(id)).join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * Sets node i's fault for the signing requests created from now on (frames of earlier requests still in
   * flight are relayed untouched).
   */
  setFault(i: number, fault: Fault): void {
    const proxy = this.proxies[i];
    if (!proxy) throw new Error(`no node ${i}`);
    proxy.setFault(fault, { newRequestsOnly: true });
  }

  /** Every proxy back to `none`; waits for restarts to finish and all nodes to be connected. */
  async resetFaults(): Promise<void> {
    for (const proxy of this.proxies) proxy.setFault({ kind: 'none' });
    await this.settled();
  }

  /** Creates a signing request for `message` (UTF-8) and returns its id. */
  async create(message: string, description = 'fault injection'): Promise<string> {
    const res = await this.coord.api<RequestView>('POST', '/v1/signing-requests', { keyId: this.key.id, message, encoding: 'utf8', description });
    if (res.status !== 201) throw new Error(`creating a signing request: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  async view(id: string, waitMs = 0): Promise<RequestView> {
    const res = await this.coord.api<RequestView>('GET', `/v1/signing-requests/${id}${waitMs > 0 ? `?waitMs=${waitMs}` : ''}`);
    if (res.status !== 200) throw new Error(`reading request ${id}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Long-polls until the request is completed, failed, expired or cancelled. */
  async outcome(id: string): Promise<RequestView> {
    for (;;) {
      const view = await this.view(id, 20_000);
      if (FINAL.has(view.status)) return view;
    }
  }

  /** Creates a request for `message` and waits for its outcome. */
  async sign(message: string, description?: string): Promise<RequestView> {
    return this.outcome(await this.create(message, description));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.restarts]);
    await Promise.allSettled(this.nodes.flatMap((node) => (node ? [node.stop()] : [])));
    await Promise.allSettled(this.proxies.map((p) => p.close()));
    if (!this.options.sharedCoordinator) await this.coord?.destroy();
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}
