import { EventEmitter } from 'node:events';
import type { AckFrame, CoordinatorFrame, ErrorFrame } from '#protocol';
import type { Reply } from './ceremonies/node-ceremonies.js';
import { CoordinatorLink, DEFAULT_RECONNECT, type Connection, type ReconnectOptions } from './connection/coordinator-link.js';
import { answerChallenge, fatalCloseError } from './connection/handshake.js';
import { resolveCoordinatorWsUrls } from './coordinator-url.js';
import { lockKeystore, type KeystoreLock } from './keystore/keystore-lock.js';
import { describeError, silentLogger, type SignerLogger } from './logger.js';
import type { NonceLimits } from './nonces/nonce-store.js';
import type { NodePolicy } from './policy/policy-types.js';
import { SignerError } from './signer-error.js';
import { openNodeParts, type NodePartEvents, type NodeParts } from './signer-node-parts.js';

export type { ReconnectOptions } from './connection/coordinator-link.js';
export type { ProposalEvent } from './signing/node-signing.js';

export interface SignerNodeOptions {
  keystoreDir: string;
  /** The keystore's passphrase; the derived key is kept once the keystore is open, not the passphrase. */
  passphrase: string;
  /**
   * `ws(s)://host:port/v1/nodes/ws` (a bare `ws(s)://host:port` gets the path added), or a comma-separated
   * list of them: the instances of one coordinator (one database, one coordinator id). The node connects
   * to the first and, whenever a connection fails or closes, tries the next (see FailoverSchedule).
   */
  coordinatorUrl: string;
  /** When set, the node refuses to authenticate to a coordinator that names itself otherwise. */
  coordinatorId?: string;
  /**
   * What the node signs (libs/signer/src/policy: `loadNodePolicy`, `policyFromFlags`): `allow` commits,
   * `deny` declines, `ask` queues the proposal for the operator (`signer approvals`).
   */
  policy: NodePolicy;
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

export interface SignerNodeEvents extends NodePartEvents {
  authenticated: [{ nodeId: string; label: string }];
  ack: [AckFrame];
  'coordinator-error': [ErrorFrame];
  disconnected: [{ code: number; reason: string }];
  fatal: [SignerError];
}

const DEFAULT_AUTH_TIMEOUT_MS = 15_000;
const DEFAULT_HEARTBEAT_MS = 30_000;
/** Application close code the node uses when it walks away from a coordinator it does not trust. */
const CLOSE_POLICY_VIOLATION = 1008;

/**
 * A signer node: holds its key shares, connects to the coordinator, authenticates with its identity
 * key, and answers proposals and signing packages after checking them itself. The composition root of
 * the node's parts: the keystore and its lock, the nonce journal, the signing service (signing/), the
 * ceremonies (ceremonies/), the connection with its backoff and the handshake (connection/); the parts
 * built on the open keystore come from signer-node-parts.ts, this class runs them (lifecycle, frames).
 * A plain class built from its options: the process that holds key shares stays small.
 *
 * Inbound frames are handled one at a time, in order, so that no two packages can race for one nonce.
 */
export class SignerNode extends EventEmitter<SignerNodeEvents> {
  private readonly logger: SignerLogger;
  private readonly link: CoordinatorLink;

  /** Everything built on the open keystore (signer-node-parts.ts), from start() on. */
  private parts?: NodeParts;
  private inbox: Promise<void> = Promise.resolve();
  private startWaiter?: { resolve: () => void; reject: (e: Error) => void };
  private started = false;
  /** Set once the node will never connect again (stopped or failed). */
  private finished = false;
  private stopping?: Promise<void>;
  private teardownDone?: Promise<void>;
  /** The keystore's exclusive lock, from start() until teardown: one process per keystore. */
  private keystoreLock?: KeystoreLock;
  private currentNodeId?: string;

  private readonly options: Omit<SignerNodeOptions, 'passphrase'>;
  /** Held only until the keystore is open: from then on the node keeps the derived key, not the passphrase. */
  private passphrase: string | undefined;

  constructor(options: SignerNodeOptions) {
    super();
    const { passphrase, ...rest } = options;
    this.options = rest;
    this.passphrase = passphrase;
    this.logger = options.logger ?? silentLogger;
    this.link = new CoordinatorLink({
      urls: resolveCoordinatorWsUrls(options.coordinatorUrl),
      logger: this.logger,
      reconnect: options.reconnect ?? DEFAULT_RECONNECT,
      authTimeoutMs: options.authTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS,
      heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
      onFrame: (connection, frame) => {
        this.inbox = this.inbox
          .then(() => this.dispatch(connection, frame))
          .catch((e: unknown) => this.logger.error({ frameType: frame.type, err: describeError(e) }, 'failed to handle a coordinator frame'));
      },
      onDisconnected: (info) => this.safeEmit('disconnected', info),
      fatalClose: (code, reason) => fatalCloseError(code, reason, { publicKey: this.parts?.keystore.publicKey, keystoreDir: options.keystoreDir }),
      onFatal: (error) => this.fail(error),
    });
  }

  /** The node's identity public key, once the keystore is open. */
  get publicKey(): string | undefined {
    return this.parts?.keystore.publicKey;
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
      if (!this.parts) await lock.release();
      throw e;
    }
    if (this.finished) {
      // stop() ran while the keystore was opening: its teardown found no journal to close.
      await this.parts?.nonces.close();
      await lock.release();
      throw new SignerError('STOPPED', 'the node was stopped before it connected');
    }
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.link.connect();
    });
  }

  /** Opens the keystore and builds the node's parts on it (signer-node-parts.ts), then loads the pending ceremonies. */
  private async open(passphrase: string): Promise<void> {
    const parts = await openNodeParts({
      keystoreDir: this.options.keystoreDir,
      passphrase,
      policy: this.options.policy,
      logger: this.logger,
      ...(this.options.nonceLimits ? { nonceLimits: this.options.nonceLimits } : {}),
      acceptCeremonies: this.options.acceptCeremonies ?? true,
      ...(this.options.now ? { now: this.options.now } : {}),
      nodeId: () => this.currentNodeId,
      currentReply: () => {
        const connection = this.link.authenticated;
        return connection ? (frame) => this.link.send(connection, frame) : undefined;
      },
      enqueue: (work) => {
        this.inbox = this.inbox.then(work).catch((e: unknown) => this.logger.error({ err: describeError(e) }, 'a ceremony timer failed'));
      },
      byOperator: (action) => this.byOperator(action),
      emit: <K extends keyof NodePartEvents>(event: K, ...args: NodePartEvents[K]) => this.safeEmit(event, ...(args as SignerNodeEvents[K])),
    });
    this.parts = parts;
    await parts.ceremonies.loadPending();
    this.logger.info(
      {
        publicKey: parts.keystore.publicKey,
        keys: parts.keyIds,
        policyHash: this.options.policy.policyHash,
        awaitingOperator: parts.approvals.list(this.now()).filter((a) => a.state === 'awaiting').length,
        approvalsSocket: parts.approvalsServer.path,
      },
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
    this.settleStart(new SignerError('STOPPED', 'the node was stopped before it authenticated'));
    await this.link.stop(1000, 'node stopping');
    await this.teardown();
  }

  private fail(error: SignerError): void {
    if (this.finished) return;
    this.finished = true;
    this.logger.error({ code: error.code }, error.message);
    this.settleStart(error);
    this.safeEmit('fatal', error);
    this.link.abandon(CLOSE_POLICY_VIOLATION, error.code);
    this.stopping ??= this.teardown();
  }

  /** Another process may be writing the keystore now: not one more journal record or share from this one. */
  private onKeystoreLockLost(error: SignerError): void {
    this.parts?.nonces.fence(error.message);
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
      const parts = this.parts;
      if (!parts) return;
      await parts.approvalsServer.close().catch((e: unknown) => this.logger.warn({ err: describeError(e) }, 'could not close the approvals socket'));
      parts.ceremonies.endAll();
      try {
        const discarded = await parts.nonces.discardAll('shutdown');
        if (discarded > 0) this.logger.info({ count: discarded }, 'discarded live nonces at shutdown');
      } catch (e) {
        this.logger.error({ err: describeError(e) }, 'could not journal the shutdown discards; the next start will');
      }
      await parts.nonces.close().finally(() => this.keystoreLock?.release());
    })();
    return this.teardownDone;
  }

  // ---------- frames ----------

  private async dispatch(connection: Connection, frame: CoordinatorFrame): Promise<void> {
    if (this.finished) return;
    switch (frame.type) {
      case 'auth.challenge': {
        if (!this.parts) return;
        const answer = answerChallenge(connection.phase, frame, this.parts.keystore, this.options.policy.policyHash, this.options.coordinatorId);
        if (answer.kind === 'ignore') this.logger.warn({}, `ignored an ${answer.reason}`);
        else if (answer.kind === 'refuse') this.fail(answer.error);
        else {
          connection.phase = 'awaiting-ok';
          this.link.send(connection, answer.frame);
        }
        return;
      }
      case 'auth.ok':
        if (connection.phase !== 'awaiting-ok') {
          this.logger.warn({ phase: connection.phase }, 'ignored an unexpected auth.ok');
          return;
        }
        this.link.markAuthenticated(connection);
        this.currentNodeId = frame.nodeId;
        this.logger.info({ nodeId: frame.nodeId, label: frame.label, url: connection.url }, 'authenticated to the coordinator');
        this.settleStart();
        this.safeEmit('authenticated', { nodeId: frame.nodeId, label: frame.label });
        this.parts?.ceremonies.onAuthenticated((f) => this.link.send(connection, f));
        this.parts?.grantFrames.onAuthenticated((f) => this.link.send(connection, f));
        return;
      case 'ack':
        this.logger.debug({ of: frame.of, requestId: frame.requestId, attemptId: frame.attemptId }, 'coordinator ack');
        this.safeEmit('ack', frame);
        return this.parts?.grantFrames.onAck(frame);
      case 'error':
        this.logger.warn(
          { code: frame.code, message: frame.message, inReplyTo: frame.inReplyTo, requestId: frame.requestId, attemptId: frame.attemptId },
          'coordinator reported an error',
        );
        this.safeEmit('coordinator-error', frame);
        return this.parts?.grantFrames.onError(frame);
      case 'request.propose':
      case 'attempt.package':
      case 'attempt.abort':
      case 'request.closed':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.parts?.signing.handle(frame, (f) => this.link.send(connection, f));
      case 'ceremony.start':
      case 'ceremony.round1.all':
      case 'ceremony.round2.all':
      case 'ceremony.closed':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.parts?.ceremonies.handle(frame, (f) => this.link.send(connection, f));
      case 'grant.propose':
      case 'grant.revoked':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.parts?.grantFrames.handle(frame, (f) => this.link.send(connection, f));
      case 'audit.checkpoint':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.parts?.witness.handle(frame, (f) => this.link.send(connection, f));
    }
  }

  /**
   * An operator action (approve, reject, revoke), run in the inbox like a frame (so that it cannot race
   * the coordinator's frames: a revocation lands before or after a package, never during), with the
   * current connection's sender, if any.
   */
  private byOperator<T>(action: (reply: Reply | undefined) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.inbox = this.inbox.then(async () => {
        try {
          if (this.finished || !this.parts) throw new SignerError('STOPPED', 'the node is stopping');
          const connection = this.link.authenticated;
          resolve(await action(connection ? (frame) => this.link.send(connection, frame) : undefined));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }

  private get now(): () => number {
    return this.options.now ?? Date.now;
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
