import { EventEmitter } from 'node:events';
import { ApprovalQueue } from './approvals/approval-queue.js';
import { approvalsHandler, type OperatorVerdict } from './approvals/approvals-handler.js';
import type { ApprovalDecided } from './approvals/approvals-protocol.js';
import { ApprovalsServer } from './approvals/approvals-server.js';
import type { AckFrame, CoordinatorFrame, ErrorFrame, NodeFrame, Outgoing } from '#protocol';
import { NodeCeremonies, type CeremonyEvents } from './ceremonies/node-ceremonies.js';
import { CoordinatorLink, DEFAULT_RECONNECT, type Connection, type ReconnectOptions } from './connection/coordinator-link.js';
import { answerChallenge, fatalCloseError } from './connection/handshake.js';
import { resolveCoordinatorWsUrl } from './coordinator-url.js';
import { GrantFrames, type GrantEvents } from './grants/grant-frames.js';
import { GrantStore } from './grants/grant-store.js';
import { NodeGrants } from './grants/node-grants.js';
import { Keystore } from './keystore/keystore.js';
import { lockKeystore, type KeystoreLock } from './keystore/keystore-lock.js';
import { describeError, silentLogger, type SignerLogger } from './logger.js';
import { NonceStore, type NonceLimits } from './nonces/nonce-store.js';
import type { NodePolicy } from './policy/policy-types.js';
import { SignerError } from './signer-error.js';
import { NodeSigning, type SigningEvents } from './signing/node-signing.js';
import { SigningService } from './signing/signing-service.js';
import { NodeWitness, type WitnessEvents } from './witness/node-witness.js';

export type { ReconnectOptions } from './connection/coordinator-link.js';
export type { ProposalEvent } from './signing/node-signing.js';

export interface SignerNodeOptions {
  keystoreDir: string;
  /** The keystore's passphrase; the derived key is kept once the keystore is open, not the passphrase. */
  passphrase: string;
  /** `ws(s)://host:port/v1/nodes/ws` (a bare `ws(s)://host:port` gets the path added). */
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

export interface SignerNodeEvents extends CeremonyEvents, SigningEvents, GrantEvents, WitnessEvents {
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
 * ceremonies (ceremonies/), the connection with its backoff and the handshake (connection/). A plain
 * class built from its options: the process that holds key shares stays small.
 *
 * Inbound frames are handled one at a time, in order, so that no two packages can race for one nonce.
 */
export class SignerNode extends EventEmitter<SignerNodeEvents> {
  private readonly logger: SignerLogger;
  private readonly link: CoordinatorLink;

  private keystore?: Keystore;
  private nonces?: NonceStore;
  private signing?: NodeSigning;
  /** Session-key grants: proposals, the operator's decisions, revocations. */
  private grantFrames?: GrantFrames;
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
  /** Key generation ceremonies and the unconfirmed shares they stored. */
  private ceremonies?: NodeCeremonies;
  /** The operator's approvals channel (a UNIX socket in the keystore directory). */
  private approvalsServer?: ApprovalsServer;
  /** The node as a witness of the coordinator's audit log. */
  private witness?: NodeWitness;

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
      url: resolveCoordinatorWsUrl(options.coordinatorUrl),
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
      fatalClose: (code, reason) => fatalCloseError(code, reason, { publicKey: this.keystore?.publicKey, keystoreDir: options.keystoreDir }),
      onFatal: (error) => this.fail(error),
    });
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
      this.link.connect();
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
    const approvals = await ApprovalQueue.open(keystore.approvalRecords, this.logger);
    const grantStore = await GrantStore.open(keystore.grantRecords, this.logger);
    const nonces = await NonceStore.open(keystore.nonceJournal, {
      logger: this.logger,
      ...(this.options.nonceLimits ? { limits: this.options.nonceLimits } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    try {
      this.approvalsServer = await ApprovalsServer.listen(
        this.options.keystoreDir,
        approvalsHandler({
          queue: approvals,
          grants: grantStore,
          now: this.now,
          decide: (requestId, decision) => this.decideByOperator(requestId, decision),
          decideGrant: (grantId, decision) => this.byOperator((reply) => this.grantFrames!.operatorDecision(grantId, decision, reply)),
          revokeGrant: (grantId, reason) => this.byOperator((reply) => this.grantFrames!.revoke(grantId, reason, reply)),
        }),
        this.logger,
      );
    } catch (e) {
      await nonces.close();
      throw e;
    }
    this.keystore = keystore;
    this.nonces = nonces;
    const ceremonies = new NodeCeremonies({
      keystore,
      logger: this.logger,
      now: this.now,
      acceptCeremonies: this.options.acceptCeremonies ?? true,
      nodeId: () => this.currentNodeId,
      currentReply: () => {
        const connection = this.link.authenticated;
        return connection ? (frame) => this.link.send(connection, frame) : undefined;
      },
      enqueue: (work) => {
        this.inbox = this.inbox.then(work).catch((e: unknown) => this.logger.error({ err: describeError(e) }, 'a ceremony timer failed'));
      },
      emit: <K extends keyof CeremonyEvents>(event: K, ...args: CeremonyEvents[K]) => this.safeEmit(event, ...(args as SignerNodeEvents[K])),
    });
    this.ceremonies = ceremonies;
    this.witness = new NodeWitness({
      records: keystore.witnessRecords,
      identity: keystore,
      logger: this.logger,
      now: this.now,
      emit: <K extends keyof WitnessEvents>(event: K, ...args: WitnessEvents[K]) => this.safeEmit(event, ...(args as SignerNodeEvents[K])),
    });
    const grants = new NodeGrants({ store: grantStore, policy: this.options.policy, signer: keystore, logger: this.logger, now: this.now });
    this.grantFrames = new GrantFrames(grants, this.logger, <K extends keyof GrantEvents>(event: K, ...args: GrantEvents[K]) =>
      this.safeEmit(event, ...(args as SignerNodeEvents[K])),
    );
    const service = new SigningService({
      shares: {
        // A share from a ceremony this node has not seen confirmed is not usable.
        findShare: (keyId) => (ceremonies.isPending(keyId) ? Promise.resolve(null) : keystore.findShare(keyId)),
      },
      nonces,
      policy: this.options.policy,
      decisions: keystore,
      approvals,
      grants,
      logger: this.logger,
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    this.signing = new NodeSigning(service, this.logger, <K extends keyof SigningEvents>(event: K, ...args: SigningEvents[K]) =>
      this.safeEmit(event, ...(args as SignerNodeEvents[K])),
    );
    await ceremonies.loadPending();
    this.logger.info(
      {
        publicKey: keystore.publicKey,
        keys: shares.map((s) => s.keyId),
        policyHash: this.options.policy.policyHash,
        awaitingOperator: approvals.list(this.now()).filter((a) => a.state === 'awaiting').length,
        approvalsSocket: this.approvalsServer.path,
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
      await this.approvalsServer?.close().catch((e: unknown) => this.logger.warn({ err: describeError(e) }, 'could not close the approvals socket'));
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

  private async dispatch(connection: Connection, frame: CoordinatorFrame): Promise<void> {
    if (this.finished) return;
    switch (frame.type) {
      case 'auth.challenge': {
        if (!this.keystore) return;
        const answer = answerChallenge(connection.phase, frame, this.keystore, this.options.policy.policyHash, this.options.coordinatorId);
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
        this.logger.info({ nodeId: frame.nodeId, label: frame.label }, 'authenticated to the coordinator');
        this.settleStart();
        this.safeEmit('authenticated', { nodeId: frame.nodeId, label: frame.label });
        this.ceremonies?.onAuthenticated((f) => this.link.send(connection, f));
        this.grantFrames?.onAuthenticated((f) => this.link.send(connection, f));
        return;
      case 'ack':
        this.logger.debug({ of: frame.of, requestId: frame.requestId, attemptId: frame.attemptId }, 'coordinator ack');
        this.safeEmit('ack', frame);
        return this.grantFrames?.onAck(frame);
      case 'error':
        this.logger.warn(
          { code: frame.code, message: frame.message, inReplyTo: frame.inReplyTo, requestId: frame.requestId, attemptId: frame.attemptId },
          'coordinator reported an error',
        );
        this.safeEmit('coordinator-error', frame);
        return this.grantFrames?.onError(frame);
      case 'request.propose':
      case 'attempt.package':
      case 'attempt.abort':
      case 'request.closed':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.signing?.handle(frame, (f) => this.link.send(connection, f));
      case 'ceremony.start':
      case 'ceremony.round1.all':
      case 'ceremony.round2.all':
      case 'ceremony.closed':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.ceremonies?.handle(frame, (f) => this.link.send(connection, f));
      case 'grant.propose':
      case 'grant.revoked':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.grantFrames?.handle(frame, (f) => this.link.send(connection, f));
      case 'audit.checkpoint':
        if (connection.phase !== 'authenticated') {
          this.logger.warn({ frameType: frame.type }, 'ignored a frame received before authentication');
          return;
        }
        return this.witness?.handle(frame, (f) => this.link.send(connection, f));
    }
  }

  /**
   * The operator's approve / reject from the approvals channel, run in the inbox like a frame (so that
   * it cannot race the coordinator's frames for the same request), answered on the current connection.
   */
  private decideByOperator(requestId: string, decision: OperatorVerdict): Promise<ApprovalDecided> {
    return this.byOperator(async (reply) => {
      const outcome = await this.signing!.operatorDecision(requestId, decision, reply);
      return { approval: outcome.approval, decision: outcome.decision, sent: outcome.sent };
    });
  }

  /**
   * An operator action (approve, reject, revoke), run in the inbox like a frame (so that it cannot race
   * the coordinator's frames: a revocation lands before or after a package, never during), with the
   * current connection's sender, if any.
   */
  private byOperator<T>(action: (reply: ((frame: Outgoing<NodeFrame>) => void) | undefined) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.inbox = this.inbox.then(async () => {
        try {
          if (this.finished || !this.signing) throw new SignerError('STOPPED', 'the node is stopping');
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
