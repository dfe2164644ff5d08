import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { BootError } from '../boot/boot-error.js';

export interface FrontDoorLimits {
  /** Time to receive a request's headers (WebSocket upgrades included). */
  headersTimeoutMs: number;
  /** Time to receive a whole request. */
  requestTimeoutMs: number;
  /** Open TCP connections per remote address (HTTP and WebSocket alike). */
  maxConnectionsPerAddress: number;
}

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A short JSON answer written straight to a socket that Express never sees (a refused connection, an upgrade). */
export function writeRawAnswer(socket: Duplex, status: number, error: { code: string; message: string }, extraHeaders: string[] = []): void {
  const body = JSON.stringify({ error });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...extraHeaders,
  ];
  if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  else socket.destroy();
}

const STARTING = { code: 'DATABASE_UNAVAILABLE', message: 'the coordinator is starting; try again shortly' } as const;
const TOO_MANY = { code: 'TOO_MANY_CONNECTIONS', message: 'too many open connections from this address' } as const;

/** Most time a refused connection gets to read its 429 before it is destroyed. */
const REFUSED_LINGER_MS = 1_000;

/**
 * The coordinator's HTTP server, created and bound before anything else starts, so that a port in use
 * fails the boot before the database is touched. Until `open` it answers every request and upgrade with
 * 503 (not ready); then requests go to Express and upgrades to the WebSocket adapter. It also holds the
 * limits Express cannot: header and request deadlines (408 and close, WebSocket upgrades included) and
 * the cap on connections per remote address (429 and close, before any byte of the request is read).
 */
export class FrontDoor {
  readonly server: Server;
  private requestListener: RequestListener | null = null;
  private upgradeListener: UpgradeListener | null = null;
  private readonly perAddress = new Map<string, number>();
  /** Addresses at the cap that were already logged (one warning per episode, not per refused socket). */
  private readonly capped = new Set<string>();
  private readonly refused = new WeakSet<Socket>();

  constructor(
    private readonly limits: FrontDoorLimits,
    private readonly warn: (message: string) => void,
  ) {
    this.server = createServer();
    this.server.headersTimeout = limits.headersTimeoutMs;
    this.server.requestTimeout = limits.requestTimeoutMs;
    // Node checks the two deadlines every 30 s by default; read when listen() starts (not in @types/node's Server).
    (this.server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(
      1_000,
      Math.max(100, Math.floor(limits.headersTimeoutMs / 2)),
    );
    this.server.on('connection', (socket: Socket) => this.admit(socket));
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.refused.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      if (this.requestListener) {
        this.requestListener(req, res);
        return;
      }
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close' });
      res.end(JSON.stringify({ error: STARTING }));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.refused.has(req.socket)) {
        socket.destroy();
        return;
      }
      if (this.requestListener && this.upgradeListener) {
        this.upgradeListener(req, socket, head);
        return;
      }
      writeRawAnswer(socket, 503, STARTING, ['Retry-After: 1']);
    });
  }

  /** Binds the port; a port in use (or any listen error) is a BootError naming host and port. */
  listen(port: number, host: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
        const message =
          e.code === 'EADDRINUSE'
            ? `cannot listen on ${where}: the port is already in use (set PORT or HOST)`
            : e.code === 'EADDRNOTAVAIL'
              ? `cannot listen on ${where}: the address is not one of this host's (set HOST)`
              : e.code === 'EACCES'
                ? `cannot listen on ${where}: permission denied (use a port above 1023)`
                : `cannot listen on ${where}: ${e.message}`;
        reject(new BootError(message, e.code ?? 'LISTEN_FAILED', { cause: e }));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** Where the WebSocket adapter takes over upgrades (they still get 503 until `open`). */
  setUpgradeListener(listener: UpgradeListener): void {
    this.upgradeListener = listener;
  }

  /** From now on requests go to `listener` (Express) and upgrades to the WebSocket adapter. */
  open(listener: RequestListener): void {
    this.requestListener = listener;
  }

  /** Stops listening (used when the boot fails; a started app closes the server through Nest). */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const open = this.perAddress.get(address) ?? 0;
    if (open >= this.limits.maxConnectionsPerAddress) {
      this.refused.add(socket);
      if (!this.capped.has(address)) {
        this.capped.add(address);
        this.warn(`refusing connections from ${address}: ${open} open (MAX_CONNECTIONS_PER_ADDRESS)`);
      }
      writeRawAnswer(socket, 429, TOO_MANY);
      socket.resume();
      setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
      return;
    }
    this.perAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      if (left < this.limits.maxConnectionsPerAddress) this.capped.delete(address);
    });
  }
}
