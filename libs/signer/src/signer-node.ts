import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import {
  CloseCode,
  MAX_FRAME_BYTES,
  authTranscript,
  decodeCoordinatorFrame,
  encodeFrame,
  type AckFrame,
  type AuthChallengeFrame,
  type AuthOkFrame,
  type CoordinatorFrame,
  type ErrorFrame,
  type NodeFrame,
  type NonceCommitment,
  type Outgoing,
  type RefusalCode,
  type RequestClosedFrame,
  type RequestProposeFrame,
} from '#protocol';
import { NodeCeremonies, type CeremonyEvents } from './ceremonies/node-ceremonies.js';
import { NODE_WS_PATH, resolveCoordinatorWsUrl } from './coordinator-url.js';
import { Keystore } from './keystore/keystore.js';
import { lockKeystore, type KeystoreLock } from './keystore/keystore-lock.js';
import { describeError, silentLogger, type SignerLogger } from './logger.js';
import { NonceStore, type NonceLimits } from './nonces/nonce-store.js';
import { describePolicy, type SigningPolicy } from './policy/signing-policy.js';
import { SignerError } from './signer-error.js';
import { SigningService } from './signing/signing-service.js';

export interface ReconnectOptions {
  /** First delay after a failure; doubles with each further failure. */
  initialMs: number;
  /** Longest delay between two connection attempts. */
  maxMs: number;
}

export interface SignerNodeOptions {
  keystoreDir: string;
  /** The keystore's passphrase; the derived key is kept once the keystore is open, not the passphrase. */
  passphrase: string;
  /** `ws(s)://host:port/v1/nodes/ws` (a bare `ws(s)://host:port` gets the path added). */
  coordinatorUrl: string;
  /** When set, the node refuses to authenticate to a coordinator that names itself otherwise. */
  coordinatorId?: string;
  policy: SigningPolicy;
  logger?: SignerLogger;
  reconnect?: ReconnectOptions;
  /** Time allowed from the socket opening to `auth.ok`; the connection is dropped and retried after it. */
  authTimeoutMs?: number;
  /** Ping interval; a connection that has not answered the previous ping is dropped. 0 disables. */
  heartbeatMs?: number;
  nonceLimits?: Partial<NonceLimits>;
  /** Whether the node takes part in key generation ceremonies the coordinator starts (default true). */
  acceptCeremonies?: boolean;
  /** Clock, for deadlines (tests). */
  now?: () => number;
}

/** What the coordinator proposed, as the node saw it before deciding. */
export type ProposalEvent = Omit<RequestProposeFrame, 'v' | 'type'>;

export interface SignerNodeEvents extends CeremonyEvents {
  authenticated: [{ nodeId: string; label: string }];
  proposal: [ProposalEvent];
  committed: [{ requestId: string; commitment: NonceCommitment }];
  declined: [{ requestId: string; code: RefusalCode; reason: string }];
  signed: [{ requestId: string; attemptId: string; replayed: boolean }];
  refused: [{ requestId: string; attemptId: string; code: RefusalCode; reason: string }];
  closed: [{ requestId: string; status: RequestClosedFrame['status'] }];
  ack: [AckFrame];
  'coordinator-error': [ErrorFrame];
  disconnected: [{ code: number; reason: string }];
  fatal: [SignerError];
}

type Phase = 'awaiting-challenge' | 'awaiting-ok' | 'authenticated';

/** One WebSocket connection and what the node knows about it. */
interface Connection {
  ws: WebSocket;
  phase: Phase;
  opened: boolean;
  /** Answered the last ping. */
  alive: boolean;
  lastError?: Error;
  /** The HTTP status the server answered the upgrade with, when it did not switch protocols. */
  upgradeStatus?: number;
  /** Set when the upgrade's answer shows retrying cannot help (a wrong path): the close is then fatal. */
  fatal?: SignerError;
  timers: NodeJS.Timeout[];
}

const DEFAULT_RECONNECT: ReconnectOptions = { initialMs: 500, maxMs: 30_000 };
const DEFAULT_AUTH_TIMEOUT_MS = 15_000;
const DEFAULT_HEARTBEAT_MS = 30_000;
const CLOSE_GRACE_MS = 2_000;
/** Application close code the node uses when it walks away from a coordinator it does not trust. */
const CLOSE_POLICY_VIOLATION = 1008;

/**
 * A signer node: holds its key shares, connects to the coordinator, authenticates with its identity
 * key, and answers proposals and signing packages after checking them itself. A plain class with its
 * collaborators built from its options: the process that holds key shares stays small.
 *
 * Inbound frames are handled one at a time, in order, so that no two packages can race for one nonce.
 */
export class SignerNode extends EventEmitter<SignerNodeEvents> {
  private readonly url: string;
  private readonly logger: SignerLogger;
  private readonly reconnect: ReconnectOptions;
  private readonly authTimeoutMs: number;
  private readonly heartbeatMs: number;

  private keystore?: Keystore;
  private nonces?: NonceStore;
  private service?: SigningService;
  private connection?: Connection;
  private inbox: Promise<void> = Promise.resolve();
  private failures = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private startWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private started = false;
  /** Set once the node will never connect again (stopped or failed). */
  private finished = false;
  private stopping?: Promise<void>;
  private teardownDone?: Promise<void>;
  /** The keystore's exclusive lock, from start() until teardown: one process per keystore. */
  private keystoreLock?: KeystoreLock;
  private currentNodeId?: string;
  /** Key generation ceremonies and the unconfirmed shares they stored. */
  private ceremonies?: NodeCeremonies;

  private readonly options: Omit<SignerNodeOptions, 'passphrase'>;
  /** Held only until the keystore is open: from then on the node keeps the derived key, not the passphrase. */
  private passphrase: string | undefined;

  constructor(options: SignerNodeOptions) {
    super();
    const { passphrase, ...rest } = options;
    this.options = rest;
    this.passphrase = passphrase;
    this.url = resolveCoordinatorWsUrl(options.coordinatorUrl);
    this.logger = options.logger ?? silentLogger;
    this.reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    this.authTimeoutMs = options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (!(this.reconnect.initialMs > 0 && this.reconnect.maxMs >= this.reconnect.initialMs)) {
      throw new SignerError('INVALID_CONFIG', 'reconnect delays must satisfy 0 < initialMs <= maxMs');
    }
  }

  /** The node's identity public key, once the keystore is open. */
  get publicKey(): string | undefined {
    return this.keystore?.publicKey;
  }

  /** The node id the coordinator assigned, once authenticated. */
  get nodeId(): string | undefined {
    return this.currentNodeId;
  }

  /**
   * Takes the keystore's lock (KEYSTORE_IN_USE when another process holds it; held until stop, and
   * its loss stops the node: KEYSTORE_LOCK_LOST), opens the keystore (checking every share) and the
   * nonce journal, then connects. Resolves at the first successful authentication; keeps retrying
   * through network failures; rejects with a SignerError when the coordinator refuses the node or the
   * node refuses the coordinator.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('SignerNode.start() may be called once');
    this.started = true;
    const passphrase = this.passphrase ?? '';
    this.passphrase = undefined;
    const lock = await lockKeystore(this.options.keystoreDir, { onLost: (error) => this.onKeystoreLockLost(error) });
    this.keystoreLock = lock;
    try {
      await this.open(passphrase);
    } catch (e) {
      // Nothing is open that a teardown would close: the lock is ours to give back.
      if (!this.nonces) await lock.release();
      throw e;
    }
    if (this.finished) {
      // stop() ran while the keystore was opening: its teardown found no journal to close.
      await this.nonces?.close();
      await lock.release();
      throw new SignerError('STOPPED', 'the node was stopped before it connected');
    }
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.connect();
    });
  }

  /** Opens the keystore (checking every share), imports the inbox and opens the nonce journal. */
  private async open(passphrase: string): Promise<void> {
    const keystore = await Keystore.open(this.options.keystoreDir, { passphrase });
    const delivered = await keystore.importInbox();
    if (delivered.imported.length > 0) this.logger.info({ keys: delivered.imported }, 'imported sealed shares from the inbox');
    // A refused share concerns one key only: the node still serves the others.
    for (const rejected of delivered.rejected) this.logger.error({ code: rejected.code }, rejected.message);
    const shares = await keystore.listShares();
    const nonces = await NonceStore.open(keystore.nonceJournal, {
      logger: this.logger,
      ...(this.options.nonceLimits ? { limits: this.options.nonceLimits } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    this.keystore = keystore;
    this.nonces = nonces;
    const ceremonies = new NodeCeremonies({
      keystore,
      logger: this.logger,
      now: this.now,
      acceptCeremonies: this.options.acceptCeremonies ?? true,
      nodeId: () => this.currentNodeId,
      currentReply: () => {
        const connection = this.connection;
        return connection?.phase === 'authenticated' ? (frame) => this.send(connection, frame) : undefined;
      },
      enqueue: (work) => {
        this.inbox = this.inbox.then(work).catch((e: unknown) => this.logger.error({ err: describeError(e) }, 'a ceremony timer failed'));
      },
      emit: <K extends keyof CeremonyEvents>(event: K, ...args: CeremonyEvents[K]) => this.safeEmit(event, ...(args as SignerNodeEvents[K])),
    });
    this.ceremonies = ceremonies;
    this.service = new SigningService({
      shares: {
        // A share from a ceremony this node has not seen confirmed is not usable.
        findShare: (keyId) => (ceremonies.isPending(keyId) ? Promise.resolve(null) : keystore.findShare(keyId)),
      },
      nonces,
      policy: this.options.policy,
      logger: this.logger,
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    await ceremonies.loadPending();
    this.logger.info(
      { publicKey: keystore.publicKey, keys: shares.map((s) => s.keyId), policy: describePolicy(this.options.policy) },
      'signer node ready',
    );
  }

  /** Closes the connection, drops every live nonce and closes the journal; never reconnects after. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.finished = true;
    clearTimeout(this.reconnectTimer);
    this.settleStart(new SignerError('STOPPED', 'the node was stopped before it authenticated'));
    const connection = this.connection;
    if (connection) await closeAndWait(connection.ws, 1000, 'node stopping');
    await this.teardown();
  }

  // ---------- connection ----------

  private connect(): void {
    if (this.finished) return;
    this.logger.debug({ url: this.url }, 'connecting to the coordinator');
    const ws = new WebSocket(this.url, {
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: this.authTimeoutMs,
    });
    const connection: Connection = { ws, phase: 'awaiting-challenge', opened: false, alive: true, timers: [] };
    this.connection = connection;
    ws.on('open', () => this.onOpen(connection));
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on('pong', () => {
      connection.alive = true;
    });
    ws.on('error', (error) => {
      // A 'close' always follows; remember why for its log line.
      connection.lastError = error;
    });
    ws.on('unexpected-response', (_req, res) => {
      // An HTTP answer instead of 101. 404 or 400: this URL is not the node endpoint, and never will be.
      const status = res.statusCode ?? 0;
      res.resume();
      connection.upgradeStatus = status;
      if (status === 404 || status === 400) {
        connection.fatal = new SignerError(
          'INVALID_CONFIG',
          `the coordinator answered the WebSocket upgrade at ${this.url} with HTTP ${status}: it is not the node endpoint; ` +
            `signer nodes connect to ws(s)://<host>:<port>${NODE_WS_PATH} (check --coordinator)`,
        );
      }
      ws.terminate();
    });
    ws.on('close', (code, reason) => this.onClose(connection, code, reason.toString('utf8')));
  }

  private onOpen(connection: Connection): void {
    connection.opened = true;
    this.logger.debug({ url: this.url }, 'connected; waiting for the challenge');
    connection.timers.push(
      setTimeout(() => {
        if (connection.phase === 'authenticated') return;
        this.logger.warn({ timeoutMs: this.authTimeoutMs }, 'authentication did not complete in time; reconnecting');
        connection.ws.terminate();
      }, this.authTimeoutMs),
    );
    if (this.heartbeatMs > 0) {
      connection.timers.push(
        setInterval(() => {
          if (!connection.alive) {
            this.logger.warn({}, 'the coordinator stopped answering pings; reconnecting');
            connection.ws.terminate();
            return;
          }
          connection.alive = false;
          connection.ws.ping();
        }, this.heartbeatMs),
      );
    }
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    connection.timers.forEach((t) => clearTimeout(t));
    if (connection !== this.connection) return;
    this.connection = undefined;
    const wasAuthenticated = connection.phase === 'authenticated';
    this.safeEmit('disconnected', { code, reason });
    if (this.finished) return;

    const fatal = connection.fatal ?? this.fatalCloseError(code, reason);
    if (fatal) {
      this.fail(fatal);
      return;
    }
    const delay = this.nextDelay();
    if (!connection.opened) {
      this.logger.warn(
        {
          url: this.url,
          error: connection.upgradeStatus !== undefined ? `HTTP ${connection.upgradeStatus} on upgrade` : connection.lastError ? describeError(connection.lastError) : undefined,
          retryInMs: delay,
        },
        'coordinator unreachable; retrying',
      );
    } else {
      this.logger.warn(
        { code, reason, authenticated: wasAuthenticated, retryInMs: delay },
        'connection to the coordinator closed; reconnecting',
      );
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Exponential backoff with jitter: a random delay in [base/2, base], base doubling to maxMs. */
  private nextDelay(): number {
    const base = Math.min(this.reconnect.maxMs, this.reconnect.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  /** Close codes after which retrying cannot help until an operator or admin acts. */
  private fatalCloseError(code: number, reason: string): SignerError | undefined {
    const said = reason ? ` (coordinator said: ${reason})` : '';
    const publicKey = this.keystore?.publicKey ?? 'unknown';
    switch (code) {
      case CloseCode.NODE_UNKNOWN:
        return new SignerError(
          'NODE_UNKNOWN',
          `the coordinator does not know this node: ask an admin to enroll public key ${publicKey}${said}`,
        );
      case CloseCode.NODE_REVOKED:
        return new SignerError(
          'NODE_REVOKED',
          `the coordinator revoked this node (public key ${publicKey}); enrolling this key again is refused. Two ways back: ` +
            'ask an admin to restore the node (`admin nodes restore <nodeId>`, POST /v1/nodes/<nodeId>/restore; GET /v1/nodes shows its id), ' +
            `or create a new identity with \`signer init --keystore ${this.options.keystoreDir} --force\` and have its public key enrolled${said}`,
        );
      case CloseCode.AUTH_FAILED:
        return new SignerError('AUTH_FAILED', `the coordinator rejected this node's authentication${said}`);
      case CloseCode.REPLACED:
        // Another process authenticated with this identity. Reconnecting would evict it, and it us, forever.
        return new SignerError(
          'REPLACED',
          `another connection authenticated as this node (public key ${publicKey}); is a second signer running with this keystore?${said}`,
        );
      default:
        return undefined;
    }
  }

  private fail(error: SignerError): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.reconnectTimer);
    this.logger.error({ code: error.code }, error.message);
    this.settleStart(error);
    this.safeEmit('fatal', error);
    const connection = this.connection;
    if (connection) connection.ws.close(CLOSE_POLICY_VIOLATION, error.code);
    this.stopping ??= this.teardown();
  }

  /** Another process may be writing the keystore now: not one more journal record or share from this one. */
  private onKeystoreLockLost(error: SignerError): void {
    this.nonces?.fence(error.message);
    this.fail(error);
  }

  private settleStart(error?: Error): void {
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    if (!waiter) return;
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  /** Waits for frames in flight, then burns every live nonce and closes the journal. */
  private teardown(): Promise<void> {
    this.teardownDone ??= (async () => {
      await this.inbox;
      this.ceremonies?.endAll();
      if (!this.nonces) return;
      try {
        const discarded = await this.nonces.discardAll('shutdown');
        if (discarded > 0) this.logger.info({ count: discarded }, 'discarded live nonces at shutdown');
      } catch (e) {
        this.logger.error({ err: describeError(e) }, 'could not journal the shutdown discards; the next start will');
      }
      await this.nonces.close().finally(() => this.keystoreLock?.release());
    })();
    return this.teardownDone;
  }

  // ---------- frames ----------

  private onMessage(connection: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    if (connection !== this.connection) return;
    if (isBinary) {
      this.logger.warn({}, 'ignored a binary frame from the coordinator');
      return;
    }
    const decoded = decodeCoordinatorFrame(data);
    if (!decoded.ok) {
      this.logger.warn(
        { code: decoded.error.code, frameType: decoded.error.frameType, error: decoded.error.message },
        'ignored a malformed frame from the coordinator',
      );
      return;
    }
    const frame = decoded.frame;
    this.inbox = this.inbox
      .then(() => this.dispatch(connection, frame))
      .catch((e: unknown) => {
        this.logger.error({ frameType: frame.type, err: describeError(e) }, 'failed to handle a coordinator frame');
      });
  }

  private async dispatch(connection: Connection, frame: CoordinatorFrame): Promise<void> {
    if (this.finished) return;
    switch (frame.type) {
      case 'auth.challenge':
        return this.onChallenge(connection, frame);
      case 'auth.ok':
        return this.onAuthOk(connection, frame);
      case 'ack':
        this.logger.debug({ of: frame.of, requestId: frame.requestId, attemptId: frame.attemptId }, 'coordinator ack');
        this.safeEmit('ack', frame);
        return;
      case 'error':
        this.logger.warn(
          { code: frame.code, message: frame.message, inReplyTo: frame.inReplyTo, requestId: frame.requestId, attemptId: frame.attemptId },
          'coordinator reported an error',
        );
        this.safeEmit('coordinator-error', frame);
        return;
      case 'request.propose':
      case 'attempt.package':
      case 'attempt.abort':
      case 'request.closed':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.onSigningFrame(connection, frame);
      case 'ceremony.start':
      case 'ceremony.round1.all':
      case 'ceremony.round2.all':
      case 'ceremony.closed':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.ceremonies?.handle(frame, (f) => this.send(connection, f));
    }
  }

  private onChallenge(connection: Connection, frame: AuthChallengeFrame): void {
    if (connection.phase !== 'awaiting-challenge') {
      this.logger.warn({ phase: connection.phase }, 'ignored an unexpected auth.challenge');
      return;
    }
    const expected = this.options.coordinatorId;
    if (expected !== undefined && frame.coordinatorId !== expected) {
      this.fail(
        new SignerError(
          'COORDINATOR_MISMATCH',
          `the coordinator calls itself ${JSON.stringify(frame.coordinatorId)}, not ${JSON.stringify(expected)}: refusing to authenticate`,
        ),
      );
      return;
    }
    const keystore = this.keystore;
    if (!keystore) return;
    const signature = keystore.signWithIdentity(authTranscript(frame.coordinatorId, frame.challenge));
    connection.phase = 'awaiting-ok';
    this.send(connection, { type: 'auth.response', publicKey: keystore.publicKey, signature });
  }

  private onAuthOk(connection: Connection, frame: AuthOkFrame): void {
    if (connection.phase !== 'awaiting-ok') {
      this.logger.warn({ phase: connection.phase }, 'ignored an unexpected auth.ok');
      return;
    }
    connection.phase = 'authenticated';
    this.failures = 0;
    this.currentNodeId = frame.nodeId;
    this.logger.info({ nodeId: frame.nodeId, label: frame.label }, 'authenticated to the coordinator');
    this.settleStart();
    this.safeEmit('authenticated', { nodeId: frame.nodeId, label: frame.label });
    this.ceremonies?.onAuthenticated((f) => this.send(connection, f));
  }

  private async onSigningFrame(
    connection: Connection,
    frame: Extract<CoordinatorFrame, { type: 'request.propose' | 'attempt.package' | 'attempt.abort' | 'request.closed' }>,
  ): Promise<void> {
    const service = this.service;
    if (!service) return;
    switch (frame.type) {
      case 'request.propose': {
        const { v: _v, type: _type, ...proposal } = frame;
        this.safeEmit('proposal', proposal);
        const outcome = await service.handlePropose(frame);
        this.send(connection, outcome.frame);
        if (outcome.kind === 'committed') {
          this.logger.info({ requestId: frame.requestId, keyId: frame.keyId }, 'committed to a request');
          this.safeEmit('committed', { requestId: frame.requestId, commitment: outcome.frame.commitment });
        } else {
          const { code, reason } = outcome.frame;
          this.logger.info({ requestId: frame.requestId, code, reason }, 'declined a request');
          this.safeEmit('declined', { requestId: frame.requestId, code, reason });
        }
        return;
      }
      case 'attempt.package': {
        const outcome = await service.handlePackage(frame);
        this.send(connection, outcome.frame);
        const ids = { requestId: frame.requestId, attemptId: frame.attemptId };
        if (outcome.kind === 'signed') {
          this.logger.info({ ...ids, replayed: outcome.replayed }, outcome.replayed ? 'sent the cached share again' : 'signed');
          this.safeEmit('signed', { ...ids, replayed: outcome.replayed });
        } else {
          this.safeEmit('refused', { ...ids, code: outcome.frame.code, reason: outcome.frame.reason });
        }
        return;
      }
      case 'attempt.abort':
        this.logger.debug({ requestId: frame.requestId, attemptId: frame.attemptId, reason: frame.reason }, 'attempt aborted');
        await service.handleAbort(frame);
        return;
      case 'request.closed': {
        const discarded = await service.handleClosed(frame);
        this.logger.info({ requestId: frame.requestId, status: frame.status, discardedNonces: discarded }, 'request closed');
        this.safeEmit('closed', { requestId: frame.requestId, status: frame.status });
        return;
      }
    }
  }

  private get now(): () => number {
    return this.options.now ?? Date.now;
  }

  /**
   * Answers on the connection the frame came from only: after a reconnect the coordinator has burned
   * what the old connection offered and re-proposes, so a late answer must not leak into the new one.
   */
  private send(connection: Connection, frame: Outgoing<NodeFrame>): void {
    if (connection.ws.readyState !== WebSocket.OPEN) {
      this.logger.warn({ frameType: frame.type }, 'the connection closed before the answer could be sent');
      return;
    }
    connection.ws.send(encodeFrame(frame));
  }

  /** A throwing listener must not stop the node from answering the coordinator. */
  private safeEmit<K extends keyof SignerNodeEvents>(event: K, ...args: SignerNodeEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SignerNodeEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      this.logger.error({ event, err: describeError(e) }, 'an event listener threw');
    }
  }
}

function closeAndWait(ws: WebSocket, code: number, reason: string): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, CLOSE_GRACE_MS);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(code, reason);
  });
}
