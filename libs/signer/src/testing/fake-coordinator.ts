import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { identityVerify } from '#crypto';
import {
  MAX_FRAME_BYTES,
  authTranscript,
  decodeNodeFrame,
  encodeFrame,
  type CoordinatorFrame,
  type NodeFrame,
  type Outgoing,
} from '#protocol';

/** What the fake coordinator does with a node whose challenge signature verified. */
export type AuthDecision = { nodeId: string; label?: string } | { closeCode: number; reason?: string };

export interface FakeCoordinatorOptions {
  coordinatorId?: string;
  /** Default: accept every key, one stable node id per key. */
  authenticate?: (publicKey: string) => AuthDecision;
  /** Send no challenge (to exercise the node's authentication timeout). */
  silent?: boolean;
}

type NodeFrameOf<T extends NodeFrame['type']> = Extract<NodeFrame, { type: T }>;

/**
 * One node's connection as the fake coordinator sees it. Every frame the node sends is decoded with
 * the protocol's own `decodeNodeFrame`, so a test also checks that the node speaks the protocol.
 */
export class FakeNodeConnection {
  readonly challenge = randomBytes(32).toString('hex');
  publicKey?: string;
  nodeId?: string;
  /** The auth.response signature verified against authTranscript(coordinatorId, challenge, policyHash). */
  authVerified = false;
  readonly frames: NodeFrame[] = [];
  readonly invalidFrames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly queue: NodeFrame[] = [];
  private waiters: ((frame: NodeFrame) => void)[] = [];
  private readonly authenticatedPromise: Promise<void>;
  private markAuthenticated!: () => void;

  constructor(
    readonly ws: WebSocket,
    private readonly coordinator: FakeCoordinator,
  ) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.authenticatedPromise = new Promise((resolve) => {
      this.markAuthenticated = resolve;
    });
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
  }

  authenticated(): Promise<void> {
    return this.authenticatedPromise;
  }

  send(frame: Outgoing<CoordinatorFrame>): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The next frame the node sent (in order); throws if it is not of `type` or none comes in time. */
  async next<T extends NodeFrame['type']>(type: T, timeoutMs = 5_000): Promise<NodeFrameOf<T>> {
    const frame = await this.nextAny(timeoutMs);
    if (frame.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(frame)}`);
    return frame as NodeFrameOf<T>;
  }

  nextAny(timeoutMs = 5_000): Promise<NodeFrame> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no frame from the node within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (frame: NodeFrame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves true if the node sent nothing more within `ms`. */
  async quietFor(ms: number): Promise<boolean> {
    try {
      await this.nextAny(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(code: number, reason = ''): void {
    this.ws.close(code, reason);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const decoded = isBinary ? undefined : decodeNodeFrame(data);
    if (!decoded?.ok) {
      this.invalidFrames.push(data.toString('utf8'));
      return;
    }
    const frame = decoded.frame;
    this.frames.push(frame);
    if (frame.type === 'auth.response' && this.publicKey === undefined) {
      this.authenticate(frame);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(frame);
    else this.queue.push(frame);
  }

  private authenticate(frame: NodeFrameOf<'auth.response'>): void {
    this.publicKey = frame.publicKey;
    const transcript = authTranscript(this.coordinator.coordinatorId, this.challenge, frame.policyHash);
    this.authVerified = identityVerify(frame.publicKey, transcript, frame.signature);
    if (!this.authVerified) {
      this.close(4401, 'bad signature');
      return;
    }
    const decision = this.coordinator.decide(frame.publicKey);
    if ('closeCode' in decision) {
      this.close(decision.closeCode, decision.reason ?? '');
      return;
    }
    this.nodeId = decision.nodeId;
    this.send({ type: 'auth.ok', nodeId: decision.nodeId, label: decision.label ?? 'test node' });
    this.markAuthenticated();
  }
}

/** A coordinator stand-in on a real WebSocket server, driven by the test. */
export class FakeCoordinator {
  readonly connections: FakeNodeConnection[] = [];
  private readonly nodeIds = new Map<string, string>();
  private connectionWaiters: ((c: FakeNodeConnection) => void)[] = [];
  private seen = 0;

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
    readonly coordinatorId: string,
    private readonly options: FakeCoordinatorOptions,
  ) {
    server.on('connection', (ws) => this.onConnection(ws));
  }

  static async start(options: FakeCoordinatorOptions = {}): Promise<FakeCoordinator> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/nodes/ws', maxPayload: MAX_FRAME_BYTES });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    return new FakeCoordinator(server, `ws://127.0.0.1:${port}/v1/nodes/ws`, options.coordinatorId ?? 'coordinator-test', options);
  }

  decide(publicKey: string): AuthDecision {
    if (this.options.authenticate) return this.options.authenticate(publicKey);
    let nodeId = this.nodeIds.get(publicKey);
    if (!nodeId) {
      nodeId = randomUUID();
      this.nodeIds.set(publicKey, nodeId);
    }
    return { nodeId };
  }

  /** The next connection not yet handed out by this method, in arrival order. */
  nextConnection(timeoutMs = 5_000): Promise<FakeNodeConnection> {
    const existing = this.connections[this.seen];
    if (existing) {
      this.seen++;
      return Promise.resolve(existing);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
      this.connectionWaiters.push((c) => {
        clearTimeout(timer);
        this.seen++;
        resolve(c);
      });
    });
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    const connection = new FakeNodeConnection(ws, this);
    this.connections.push(connection);
    if (!this.options.silent) {
      connection.send({
        type: 'auth.challenge',
        coordinatorId: this.coordinatorId,
        challenge: connection.challenge,
        expiresAt: Date.now() + 10_000,
      });
    }
    const waiter = this.connectionWaiters.shift();
    if (waiter) waiter(connection);
  }
}
