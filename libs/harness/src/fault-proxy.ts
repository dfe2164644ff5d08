import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { getSuite, offByOneShare, randomGroupElement, randomScalarHex, type SuiteId } from '#crypto';
import { MAX_FRAME_BYTES } from '#protocol';
import type { AttemptBoard, CrashEvent, Fault, RecordedFrame, WireFrame } from './fault-types.js';

export interface FaultProxyOptions {
  /** The coordinator's ws URL (`ws://host:port/v1/nodes/ws`). */
  target: string;
  /** For error messages. */
  label?: string;
  board?: AttemptBoard;
  /** Called when a `crash` fault fires; the proxy has already cut the coordinator connection. */
  onCrash?: (event: CrashEvent) => void | Promise<void>;
  initialFault?: Fault;
}

interface Link {
  id: number;
  down: WebSocket;
  up: WebSocket;
  upOpen: Promise<void>;
  authenticated: boolean;
  /** Cut by a crash: nothing more is relayed either way. */
  dead: boolean;
  /** Serializes node -> coordinator sends (delays keep their order). */
  chain: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Close codes an endpoint may send in a close frame. */
const sendableCode = (code: number) => code === 1000 || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);

/**
 * A WebSocket man-in-the-middle between one signer node and the coordinator. The node connects to
 * `proxy.url`; for each node connection the proxy opens its own connection to the coordinator and
 * relays text JSON frames both ways, applying the current {@link Fault} to the node's side after
 * authentication. Every frame is recorded in `frames`.
 */
export class FaultProxy extends EventEmitter<{ frame: [RecordedFrame]; crash: [CrashEvent] }> {
  private currentFault: Fault;
  /** Set by `setFault(..., { newRequestsOnly: true })`: the fault spares requests seen up to this number. */
  private faultAfterRequest = 0;
  private readonly requestSeq = new Map<string, number>();
  onCrash?: (event: CrashEvent) => void | Promise<void>;
  readonly frames: RecordedFrame[] = [];
  /** The node id the coordinator authenticated (from `auth.ok`). */
  nodeId?: string;
  /** The node's FROST identifier, learned from its commitments (or set by the caller). */
  identifier?: string;
  /** Errors the proxy itself ran into (a fault needing a suite it never saw, ...). */
  readonly problems: string[] = [];

  private readonly server: WebSocketServer;
  private readonly links = new Set<Link>();
  private current?: Link;
  private connections = 0;
  private readonly suites = new Map<string, SuiteId>();
  private readonly committedRequests = new Set<string>();
  private readonly equivocated = new Set<string>();
  private readonly foreignSent = new Set<string>();
  private readonly replayed = new Set<string>();
  private readonly onBoard = (frame: WireFrame) => this.considerForeign(frame);
  private closed = false;

  private constructor(
    private readonly options: FaultProxyOptions,
    server: WebSocketServer,
  ) {
    super();
    this.server = server;
    this.currentFault = options.initialFault ?? { kind: 'none' };
    this.onCrash = options.onCrash;
    server.on('connection', (ws) => this.accept(ws));
    options.board?.on('package', this.onBoard);
  }

  /** Starts a proxy listening on a free port of 127.0.0.1. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new FaultProxy(options, server);
  }

  /** The current fault; assigning it applies it to every frame from now on (`setFault` can spare requests in flight). */
  get fault(): Fault {
    return this.currentFault;
  }
  set fault(fault: Fault) {
    this.setFault(fault);
  }

  /**
   * Sets the fault. With `newRequestsOnly`, frames of signing requests the proxy has already seen keep being
   * relayed untouched (late answers to a previous request must not, say, trigger a `crash` meant for the
   * next one); frames without a `requestId` always get the fault.
   */
  setFault(fault: Fault, options: { newRequestsOnly?: boolean } = {}): void {
    this.currentFault = fault;
    this.faultAfterRequest = options.newRequestsOnly ? this.requestSeq.size : 0;
  }

  /** The fault that applies to a frame of `requestId`. */
  private faultFor(requestId: unknown): Fault {
    if (this.faultAfterRequest === 0 || typeof requestId !== 'string') return this.currentFault;
    const seq = this.requestSeq.get(requestId);
    return seq !== undefined && seq <= this.faultAfterRequest ? { kind: 'none' } : this.currentFault;
  }

  private noteRequest(frame: WireFrame): void {
    if (typeof frame.requestId === 'string' && !this.requestSeq.has(frame.requestId)) this.requestSeq.set(frame.requestId, this.requestSeq.size + 1);
  }

  /** The URL the signer node must connect to. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}/v1/nodes/ws`;
  }

  get label(): string {
    return this.options.label ?? this.url;
  }

  /** True while a node connection is authenticated and relayed. */
  get connected(): boolean {
    const link = this.current;
    return !!link && link.authenticated && !link.dead && link.up.readyState === WebSocket.OPEN;
  }

  /** Resolves with the first recorded frame (past or future) that matches. */
  waitForFrame(match: (r: RecordedFrame) => boolean, timeoutMs = 10_000): Promise<RecordedFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('frame', listener);
        reject(new Error(`${this.label}: no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (r: RecordedFrame) => {
        if (!match(r)) return;
        clearTimeout(timer);
        this.off('frame', listener);
        resolve(r);
      };
      this.on('frame', listener);
    });
  }

  /** Closes the proxy and every connection through it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.board?.off('package', this.onBoard);
    for (const link of this.links) {
      link.dead = true;
      link.up.terminate();
      link.down.terminate();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------- relaying ----------

  private accept(down: WebSocket): void {
    if (this.closed) {
      down.terminate();
      return;
    }
    const up = new WebSocket(this.options.target, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    const link: Link = {
      id: ++this.connections,
      down,
      up,
      upOpen: new Promise<void>((resolve, reject) => {
        up.once('open', () => resolve());
        up.once('close', () => reject(new Error('closed before open')));
      }),
      authenticated: false,
      dead: false,
      chain: Promise.resolve(),
    };
    link.upOpen.catch(() => undefined);
    this.links.add(link);
    this.current = link;

    up.on('message', (data, isBinary) => this.fromCoordinator(link, data, isBinary));
    down.on('message', (data, isBinary) => this.fromNode(link, data, isBinary));
    up.on('error', () => undefined);
    down.on('error', () => undefined);
    up.on('close', (code, reason) => {
      if (link.dead) return;
      closeWith(down, code, reason.toString());
    });
    down.on('close', (code, reason) => {
      this.links.delete(link);
      if (this.current === link) this.current = undefined;
      if (link.dead) return;
      link.chain = link.chain.then(() => closeWith(up, code, reason.toString()));
    });
  }

  private record(link: Link, direction: RecordedFrame['direction'], frame: WireFrame, extra: Partial<RecordedFrame> = {}): void {
    const entry: RecordedFrame = { connection: link.id, direction, at: Date.now(), frame, ...extra };
    this.frames.push(entry);
    this.emit('frame', entry);
  }

  private fromCoordinator(link: Link, data: RawData, isBinary: boolean): void {
    if (link.dead) return;
    const frame = parse(data);
    if (!frame || isBinary) {
      if (link.down.readyState === WebSocket.OPEN) link.down.send(data, { binary: isBinary });
      return;
    }
    if (frame.type === 'auth.ok') {
      link.authenticated = true;
      if (typeof frame.nodeId === 'string') this.nodeId = frame.nodeId;
    }
    if (frame.type === 'request.propose' && typeof frame.requestId === 'string' && typeof frame.suite === 'string') {
      this.suites.set(frame.requestId, frame.suite as SuiteId);
    }
    this.noteRequest(frame);
    if (frame.type === 'attempt.package') this.options.board?.publish(frame);

    const fault = this.faultFor(frame.requestId);
    if (link.authenticated && fault.kind === 'crash') {
      if ((fault.at === 'propose' && frame.type === 'request.propose') || (fault.at === 'package' && frame.type === 'attempt.package')) {
        this.record(link, 'to-node', frame, { dropped: true });
        this.crash(link, fault.at, false);
        return;
      }
    }
    this.record(link, 'to-node', frame);
    if (link.down.readyState === WebSocket.OPEN) link.down.send(data, { binary: false });
  }

  private fromNode(link: Link, data: RawData, isBinary: boolean): void {
    if (link.dead) return;
    const frame = parse(data);
    if (!frame || isBinary || !link.authenticated) {
      // The handshake (and anything undecodable) goes on untouched.
      if (frame) this.record(link, 'to-coordinator', frame);
      link.chain = link.chain.then(async () => {
        await link.upOpen;
        if (!link.dead && link.up.readyState === WebSocket.OPEN) link.up.send(data, { binary: isBinary });
      }).catch(() => undefined);
      return;
    }
    this.applyFault(link, frame);
  }

  private applyFault(link: Link, frame: WireFrame): void {
    this.noteRequest(frame);
    const fault = this.faultFor(frame.requestId);
    const requestId = typeof frame.requestId === 'string' ? frame.requestId : undefined;
    if (frame.type === 'request.commit') {
      const commitment = frame.commitment as { identifier?: unknown } | undefined;
      if (typeof commitment?.identifier === 'string') this.identifier ??= commitment.identifier;
    }
    switch (fault.kind) {
      case 'none':
      case 'crash':
        break;
      case 'foreign-attempt':
        if (fault.withholdCommitments && frame.type === 'request.commit') {
          this.record(link, 'to-coordinator', frame, { dropped: true });
          if (requestId) for (const pkg of this.options.board?.packages ?? []) if (pkg.requestId === requestId) this.considerForeign(pkg);
          return;
        }
        break;
      case 'silent':
        if (frame.type === 'attempt.share' || frame.type === 'attempt.refuse') {
          this.record(link, 'to-coordinator', frame, { dropped: true });
          return;
        }
        break;
      case 'mute':
        this.record(link, 'to-coordinator', frame, { dropped: true });
        return;
      case 'slow':
        this.relay(link, frame, fault.delayMs);
        return;
      case 'invalid-share':
      case 'malformed-share':
        if (frame.type === 'attempt.share' && requestId) {
          const changed = { ...frame, share: this.badShare(requestId, String(frame.share), fault.kind) };
          this.relay(link, changed, 0, { original: frame });
          return;
        }
        break;
      case 'replay-older':
      case 'equivocate':
        break;
      default:
        fault satisfies never;
    }

    this.relay(link, frame, 0);

    if (frame.type === 'request.commit' && requestId) {
      const first = !this.committedRequests.has(requestId);
      this.committedRequests.add(requestId);
      if (fault.kind === 'equivocate' && first && !this.equivocated.has(requestId)) {
        this.equivocated.add(requestId);
        const commitment = frame.commitment as { identifier: string };
        const fresh = this.randomCommitment(requestId, commitment.identifier);
        // With the node's own signed approval: the decision is genuine, only the commitment equivocates.
        if (fresh) this.relay(link, { v: 1, type: 'request.commit', requestId, commitment: fresh, decision: frame.decision }, 0, { injected: true });
      }
      if (fault.kind === 'foreign-attempt') for (const pkg of this.options.board?.packages ?? []) this.considerForeign(pkg);
    }
    if (frame.type === 'attempt.share' && requestId) {
      if (fault.kind === 'replay-older') this.replayOlder(link, requestId, String(frame.attemptId), fault.from);
      if (fault.kind === 'crash' && fault.at === 'share') {
        link.chain = link.chain.then(() => this.crash(link, 'share', true));
      }
    }
  }

  /** `enqueue` for frames nobody waits on: a connection that went away just loses them. */
  private relay(link: Link, frame: WireFrame, delayMs: number, extra: Partial<RecordedFrame> = {}): void {
    this.enqueue(link, frame, delayMs, extra).catch(() => undefined);
  }

  /** Queues a node -> coordinator frame, sent `delayMs` from now at the earliest and after every earlier one. */
  private enqueue(link: Link, frame: WireFrame, delayMs: number, extra: Partial<RecordedFrame> = {}): Promise<void> {
    const due = Date.now() + delayMs;
    const sent = link.chain.then(async () => {
      await link.upOpen;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (link.dead || link.up.readyState !== WebSocket.OPEN) throw new Error(`${this.label}: the coordinator connection is gone`);
      this.record(link, 'to-coordinator', frame, extra);
      await new Promise<void>((resolve, reject) => link.up.send(JSON.stringify(frame), (e) => (e ? reject(e) : resolve())));
    });
    link.chain = sent.catch(() => undefined);
    return sent;
  }

  private crash(link: Link, at: CrashEvent['at'], graceful: boolean): void {
    if (link.dead) return;
    link.dead = true;
    this.setFault({ kind: 'none' });
    // The share (if any) is already written: close after it; otherwise cut at once.
    if (graceful) link.up.close(1001, 'node crashed');
    else link.up.terminate();
    const event: CrashEvent = { at, connection: link.id, ...(this.nodeId ? { nodeId: this.nodeId } : {}) };
    this.emit('crash', event);
    // onCrash runs first so that it can stop the node before it sees the socket close (and reconnects).
    let pending: void | Promise<void> = undefined;
    try {
      pending = this.onCrash?.(event);
    } catch (e) {
      this.problems.push(`onCrash failed: ${(e as Error).message}`);
    }
    link.down.terminate();
    if (pending) pending.catch((e: Error) => this.problems.push(`onCrash failed: ${e.message}`));
  }

  // ---------- fault helpers ----------

  private suiteOf(requestId: string): SuiteId | undefined {
    const suite = this.suites.get(requestId);
    if (!suite) this.problems.push(`${this.label}: no request.propose seen for ${requestId}; cannot build a fault frame`);
    return suite;
  }

  private badShare(requestId: string, share: string, kind: 'invalid-share' | 'malformed-share'): string {
    const suiteId = this.suiteOf(requestId);
    const suite = getSuite(suiteId ?? (share.length === 114 ? 'ed448' : 'secp256k1'));
    if (kind === 'malformed-share') return 'ff'.repeat(suite.scalarBytes);
    return offByOneShare(suite.id, share);
  }

  private randomCommitment(requestId: string, identifier: string): { identifier: string; hiding: string; binding: string } | undefined {
    const suiteId = this.suiteOf(requestId);
    if (!suiteId) return undefined;
    return { identifier, hiding: randomGroupElement(suiteId), binding: randomGroupElement(suiteId) };
  }

  private replayOlder(link: Link, requestId: string, attemptId: string, from: 'same-request' | 'older-request' | 'older-request-retargeted'): void {
    const candidates = this.frames.filter(
      (r) =>
        r.direction === 'to-coordinator' &&
        r.frame.type === 'attempt.share' &&
        !r.dropped &&
        (from === 'same-request' ? r.frame.requestId === requestId && r.frame.attemptId !== attemptId : r.frame.requestId !== requestId),
    );
    const older = candidates.at(-1);
    if (!older) return;
    const key = `${requestId}/${String(older.frame.attemptId)}/${from}`;
    if (this.replayed.has(key)) return;
    this.replayed.add(key);
    const frame = from === 'older-request-retargeted' ? { ...older.frame, requestId } : older.frame;
    this.relay(link, frame, 0, { injected: true });
  }

  private considerForeign(pkg: WireFrame): void {
    const fault = this.faultFor(pkg.requestId);
    if (fault.kind !== 'foreign-attempt' || !this.identifier) return;
    const requestId = String(pkg.requestId);
    const takesPart = fault.withholdCommitments ? this.suites.has(requestId) : this.committedRequests.has(requestId);
    if (!takesPart || this.foreignSent.has(requestId)) return;
    const commitments = pkg.commitments as { identifier: string }[];
    if (commitments.some((c) => c.identifier === this.identifier)) return;
    const link = this.current;
    if (!link || link.dead || !link.authenticated) return;
    const suiteId = this.suiteOf(requestId);
    if (!suiteId) return;
    this.foreignSent.add(requestId);
    const share = randomScalarHex(suiteId);
    this.relay(link, { v: 1, type: 'attempt.share', requestId, attemptId: pkg.attemptId, share }, 0, { injected: true });
  }
}

function parse(data: RawData): WireFrame | undefined {
  try {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string' ? (value as WireFrame) : undefined;
  } catch {
    return undefined;
  }
}

function closeWith(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  if (ws.readyState === WebSocket.CONNECTING || !sendableCode(code)) ws.terminate();
  else ws.close(code, reason);
}
