import WebSocket from 'ws';
import { MAX_FRAME_BYTES, decodeCoordinatorFrame, encodeFrame, type CoordinatorFrame, type NodeFrame, type Outgoing } from '#protocol';
import { NODE_WS_PATH } from '../coordinator-url.js';
import { describeError, type SignerLogger } from '../logger.js';
import { SignerError } from '../signer-error.js';
import { FailoverSchedule, type ReconnectOptions } from './failover-schedule.js';

export type { ReconnectOptions } from './failover-schedule.js';

export type Phase = 'awaiting-challenge' | 'awaiting-ok' | 'authenticated';

/** One WebSocket connection to the coordinator and where its handshake stands. */
export interface Connection {
  readonly ws: WebSocket;
  /** The coordinator instance this connection goes to. */
  readonly url: string;
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

export interface CoordinatorLinkOptions {
  /**
   * The coordinator's instances, each `ws(s)://host:port/v1/nodes/ws`, checked (see
   * resolveCoordinatorWsUrls): tried in turn, from the first (see FailoverSchedule).
   */
  urls: readonly string[];
  logger: SignerLogger;
  reconnect: ReconnectOptions;
  /** The jitter's source of randomness, in [0, 1) (tests); Math.random by default. */
  random?: () => number;
  /** Time allowed from the socket opening to authentication; the connection is dropped and retried after it. */
  authTimeoutMs: number;
  /** Ping interval; a connection that has not answered the previous ping is dropped. 0 disables. */
  heartbeatMs: number;
  /** A decoded frame, in arrival order, from the current connection only. */
  onFrame(connection: Connection, frame: CoordinatorFrame): void;
  onDisconnected(info: { code: number; reason: string }): void;
  /** The close code (and reason) of a closed connection says retrying cannot help: the error to stop with. */
  fatalClose(code: number, reason: string): SignerError | undefined;
  /** Called once when the link gives up for good (`fatalClose`, or every URL is a wrong endpoint). */
  onFatal(error: SignerError): void;
}

export const DEFAULT_RECONNECT: ReconnectOptions = { initialMs: 500, maxMs: 30_000 };
const CLOSE_GRACE_MS = 2_000;

/**
 * The node's connection to the coordinator: one WebSocket at a time, the authentication deadline, the
 * heartbeat, and reconnection until it is told to stop or a close says retrying cannot help. With several
 * coordinator instances (one database, one coordinator id) each new attempt goes to the next instance,
 * with the backoff of FailoverSchedule. A URL that answers the upgrade as a wrong path leaves the rotation
 * (an error line names it); that is fatal only once no URL is left, so with one URL it is fatal at once.
 * It knows nothing of what the frames mean.
 */
export class CoordinatorLink {
  private connection?: Connection;
  private readonly schedule: FailoverSchedule;
  private reconnectTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: CoordinatorLinkOptions) {
    this.schedule = new FailoverSchedule(options.urls, options.reconnect, options.random);
  }

  /** The current connection once it has authenticated. */
  get authenticated(): Connection | undefined {
    return this.connection?.phase === 'authenticated' ? this.connection : undefined;
  }

  connect(): void {
    if (this.stopped) return;
    const { logger, authTimeoutMs } = this.options;
    const url = this.schedule.url;
    logger.debug({ url }, 'connecting to the coordinator');
    const ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, handshakeTimeout: authTimeoutMs });
    const connection: Connection = { ws, url, phase: 'awaiting-challenge', opened: false, alive: true, timers: [] };
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
          `the coordinator answered the WebSocket upgrade at ${url} with HTTP ${status}: it is not the node endpoint; ` +
            `signer nodes connect to ws(s)://<host>:<port>${NODE_WS_PATH} (check --coordinator)`,
        );
      }
      ws.terminate();
    });
    ws.on('close', (code, reason) => this.onClose(connection, code, reason.toString('utf8')));
  }

  /** The connection authenticated: the backoff starts over. */
  markAuthenticated(connection: Connection): void {
    connection.phase = 'authenticated';
    if (connection === this.connection) this.schedule.authenticated();
  }

  /**
   * Sends on `connection` only (the one the answered frame came from): after a reconnect the coordinator
   * has burned what the old connection offered, so a late answer must not leak into the new one.
   */
  send(connection: Connection, frame: Outgoing<NodeFrame>): void {
    if (connection.ws.readyState !== WebSocket.OPEN) {
      this.options.logger.warn({ frameType: frame.type }, 'the connection closed before the answer could be sent');
      return;
    }
    connection.ws.send(encodeFrame(frame));
  }

  /** Stops for good: no reconnect; closes the current connection (waiting for it) with `code`. */
  async stop(code: number, reason: string): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const connection = this.connection;
    if (connection) await closeAndWait(connection.ws, code, reason);
  }

  /** Stops for good without waiting: the node walks away (a fatal error). */
  abandon(code: number, reason: string): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.connection?.ws.close(code, reason);
  }

  private onOpen(connection: Connection): void {
    const { logger, authTimeoutMs, heartbeatMs } = this.options;
    const url = connection.url;
    connection.opened = true;
    logger.debug({ url }, 'connected; waiting for the challenge');
    connection.timers.push(
      setTimeout(() => {
        if (connection.phase === 'authenticated') return;
        logger.warn({ url, timeoutMs: authTimeoutMs }, 'authentication did not complete in time; reconnecting');
        connection.ws.terminate();
      }, authTimeoutMs),
    );
    if (heartbeatMs > 0) {
      connection.timers.push(
        setInterval(() => {
          if (!connection.alive) {
            logger.warn({ url }, 'the coordinator stopped answering pings; reconnecting');
            connection.ws.terminate();
            return;
          }
          connection.alive = false;
          connection.ws.ping();
        }, heartbeatMs),
      );
    }
  }

  private onMessage(connection: Connection, data: WebSocket.RawData, isBinary: boolean): void {
    if (connection !== this.connection) return;
    if (isBinary) {
      this.options.logger.warn({}, 'ignored a binary frame from the coordinator');
      return;
    }
    const decoded = decodeCoordinatorFrame(data);
    if (!decoded.ok) {
      this.options.logger.warn(
        { code: decoded.error.code, frameType: decoded.error.frameType, error: decoded.error.message },
        'ignored a malformed frame from the coordinator',
      );
      return;
    }
    this.options.onFrame(connection, decoded.frame);
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    connection.timers.forEach((t) => clearTimeout(t));
    if (connection !== this.connection) return;
    this.connection = undefined;
    const wasAuthenticated = connection.phase === 'authenticated';
    this.options.onDisconnected({ code, reason });
    if (this.stopped) return;
    const { logger } = this.options;
    const url = connection.url;
    // A close code that says retrying cannot help speaks for every instance: they share one database.
    const fatal = this.options.fatalClose(code, reason);
    if (fatal) {
      this.giveUp(fatal);
      return;
    }
    let delay: number;
    if (connection.fatal) {
      // A wrong path at this URL: the other instances may still be right.
      const next = this.schedule.drop();
      if (next === undefined) {
        this.giveUp(connection.fatal);
        return;
      }
      delay = next;
      logger.error({ url, error: connection.fatal.message, nextUrl: this.schedule.url, retryInMs: delay }, 'not the node endpoint: this coordinator URL is no longer tried');
    } else {
      delay = this.schedule.advance();
      const nextUrl = this.schedule.url;
      if (!connection.opened) {
        const error =
          connection.upgradeStatus !== undefined ? `HTTP ${connection.upgradeStatus} on upgrade` : connection.lastError ? describeError(connection.lastError) : undefined;
        logger.warn({ url, error, nextUrl, retryInMs: delay }, 'coordinator unreachable; retrying');
      } else {
        logger.warn({ url, code, reason, authenticated: wasAuthenticated, nextUrl, retryInMs: delay }, 'connection to the coordinator closed; reconnecting');
      }
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private giveUp(error: SignerError): void {
    this.stopped = true;
    this.options.onFatal(error);
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
