import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { encodeFrame } from '#protocol';
import type { SignerLogger } from '../logger.js';
import { SignerError } from '../signer-error.js';
import { CoordinatorLink, type Connection } from './coordinator-link.js';

const INITIAL_MS = 20;

/** A coordinator instance reduced to its first step: it accepts the socket and sends `auth.challenge`. */
interface Instance {
  readonly url: string;
  /** Sockets accepted so far. */
  accepted(): number;
  /** Dies as a SIGKILLed instance does: every socket cut (no close frame), the port closed. */
  kill(): Promise<void>;
  /** Closes every socket with `code`, as the coordinator does when it refuses a node. */
  closeAll(code: number, reason: string): void;
  /** While true, every new socket is closed at once (1013, try again later): an instance not ready. */
  refusing: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function instance(refusing = false): Promise<Instance> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let accepted = 0;
  let closed = false;
  wss.on('connection', (ws) => {
    accepted++;
    if (result.refusing) {
      ws.close(1013, 'not ready');
      return;
    }
    ws.send(encodeFrame({ type: 'auth.challenge', coordinatorId: 'roundtable', challenge: randomBytes(32).toString('hex'), expiresAt: Date.now() + 10_000 }));
  });
  const kill = async () => {
    if (closed) return;
    closed = true;
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
  cleanups.push(kill);
  const result: Instance = {
    refusing,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/nodes/ws`,
    accepted: () => accepted,
    kill,
    closeAll: (code, reason) => {
      for (const client of wss.clients) client.close(code, reason);
    },
  };
  return result;
}

/** A URL nothing listens on: connecting to it is refused at once. */
async function deadUrl(): Promise<string> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `ws://127.0.0.1:${port}/v1/nodes/ws`;
}

/** An HTTP server that answers every upgrade 404: a URL with a wrong path. */
async function wrongPathUrl(): Promise<string> {
  const server: Server = createServer();
  server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/nodes/ws`;
}

interface LogLine {
  level: keyof SignerLogger;
  fields: Record<string, unknown>;
  message?: string;
}

/**
 * A link over `urls` whose first frame on a connection stands for a completed handshake (the link knows
 * nothing of frames: the node marks it authenticated). random() = 1: every delay is the top of its jitter
 * range, so the test can name it.
 */
function link(urls: string[], options: { maxMs?: number; fatalClose?: (code: number) => SignerError | undefined } = {}) {
  const lines: LogLine[] = [];
  const log =
    (level: keyof SignerLogger) =>
    (fields: object, message?: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, ...(message !== undefined ? { message } : {}) });
    };
  const logger: SignerLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const onFatal = vi.fn<(error: SignerError) => void>();
  const authenticatedTo: string[] = [];
  const coordinatorLink: CoordinatorLink = new CoordinatorLink({
    urls,
    logger,
    reconnect: { initialMs: INITIAL_MS, maxMs: options.maxMs ?? 10_000 },
    random: () => 1,
    authTimeoutMs: 5_000,
    heartbeatMs: 0,
    onFrame: (connection: Connection) => {
      if (connection.phase === 'authenticated') return;
      coordinatorLink.markAuthenticated(connection);
      authenticatedTo.push(connection.url);
    },
    onDisconnected: () => undefined,
    fatalClose: (code) => options.fatalClose?.(code),
    onFatal,
  });
  cleanups.push(() => coordinatorLink.stop(1000, 'test over'));
  /** The delays scheduled after each closed attempt, with the URL that failed and the one tried next. */
  const retries = () =>
    lines
      .filter((l) => l.fields['retryInMs'] !== undefined)
      .map((l) => ({ url: l.fields['url'], nextUrl: l.fields['nextUrl'], retryInMs: l.fields['retryInMs'] }));
  return { link: coordinatorLink, lines, retries, onFatal, authenticatedTo };
}

describe('CoordinatorLink over several coordinator instances', () => {
  it('connects to the second URL when the first is down, naming the URL that failed', async () => {
    const dead = await deadUrl();
    const b = await instance();
    const l = link([dead, b.url]);
    l.link.connect();
    await vi.waitFor(() => expect(l.authenticatedTo).toEqual([b.url]));
    expect(l.retries()).toEqual([{ url: dead, nextUrl: b.url, retryInMs: INITIAL_MS }]);
    expect(l.lines.find((line) => line.message === 'coordinator unreachable; retrying')?.fields['error']).toMatch(/ECONNREFUSED/);
    expect(l.link.authenticated?.url).toBe(b.url);
  });

  it('fails over to the next instance at the initial delay when the one it was connected to dies', async () => {
    const a = await instance();
    const b = await instance();
    const l = link([a.url, b.url]);
    l.link.connect();
    await vi.waitFor(() => expect(l.authenticatedTo).toEqual([a.url]));
    await a.kill();
    await vi.waitFor(() => expect(l.authenticatedTo).toEqual([a.url, b.url]));
    expect(b.accepted()).toBe(1);
    expect(l.retries()).toEqual([{ url: a.url, nextUrl: b.url, retryInMs: INITIAL_MS }]);
    expect(l.lines.find((line) => line.message === 'connection to the coordinator closed; reconnecting')?.fields).toMatchObject({
      url: a.url,
      authenticated: true,
    });
  });

  it('after a long outage, once it got back in, a failover waits the initial delay again, not the grown one', async () => {
    const a = await instance(true);
    const b = await instance(true);
    const l = link([a.url, b.url]);
    l.link.connect();
    // two whole rounds refused: the gap before the third has grown to 40
    await vi.waitFor(() => expect(l.retries().length).toBeGreaterThanOrEqual(4), { timeout: 5_000, interval: 2 });
    a.refusing = false;
    b.refusing = false;
    await vi.waitFor(() => expect(l.authenticatedTo).toHaveLength(1), { timeout: 5_000 });
    const before = l.retries();
    expect(before.slice(0, 4).map((r) => r.retryInMs)).toEqual([20, 20, 20, 40]);
    const [first] = l.authenticatedTo;
    const [dying, other]: [Instance, Instance] = first === a.url ? [a, b] : [b, a];
    await dying.kill();
    await vi.waitFor(() => expect(l.authenticatedTo).toEqual([dying.url, other.url]), { timeout: 5_000 });
    expect(l.retries().slice(before.length)).toEqual([{ url: dying.url, nextUrl: other.url, retryInMs: INITIAL_MS }]);
  }, 10_000);

  it('when every instance is down, the delay grows only after each whole round', async () => {
    const urls = [await deadUrl(), await deadUrl(), await deadUrl()];
    const l = link(urls, { maxMs: 60 });
    l.link.connect();
    await vi.waitFor(() => expect(l.retries().length).toBeGreaterThanOrEqual(12), { timeout: 5_000 });
    const retries = l.retries().slice(0, 12);
    expect(retries.map((r) => r.url)).toEqual([...urls, ...urls, ...urls, ...urls]);
    expect(retries.map((r) => r.nextUrl)).toEqual([...urls.slice(1), ...urls, ...urls, ...urls, urls[0]]);
    expect(retries.map((r) => r.retryInMs)).toEqual([20, 20, 20, 20, 20, 40, 20, 20, 60, 20, 20, 60]);
    expect(l.onFatal).not.toHaveBeenCalled();
  }, 10_000);

  it('drops a URL that is not the node endpoint and keeps the others; with none left the error is fatal', async () => {
    const wrong = await wrongPathUrl();
    const b = await instance();
    const l = link([wrong, b.url]);
    l.link.connect();
    await vi.waitFor(() => expect(l.authenticatedTo).toEqual([b.url]));
    const dropped = l.lines.find((line) => line.level === 'error');
    expect(dropped?.fields).toMatchObject({ url: wrong, nextUrl: b.url, retryInMs: 20 });
    expect(dropped?.fields['error']).toEqual(expect.stringContaining('HTTP 404'));
    // b dies: the wrong URL is never tried again, b alone is the rotation
    await b.kill();
    await vi.waitFor(() => expect(l.retries().length).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    expect(l.retries().slice(1).every((r) => r.url === b.url && r.nextUrl === b.url)).toBe(true);
    expect(l.onFatal).not.toHaveBeenCalled();

    const alone = link([await wrongPathUrl(), await wrongPathUrl()]);
    alone.link.connect();
    await vi.waitFor(() => expect(alone.onFatal).toHaveBeenCalledTimes(1));
    const error = alone.onFatal.mock.calls[0]![0];
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.message).toContain('/v1/nodes/ws');
  });

  it('stops on a fatal close code without trying the other instances (they share one database)', async () => {
    const a = await instance();
    const b = await instance();
    const l = link([a.url, b.url], { fatalClose: (code) => (code === 4404 ? new SignerError('NODE_UNKNOWN', 'not enrolled') : undefined) });
    l.link.connect();
    await vi.waitFor(() => expect(l.authenticatedTo).toEqual([a.url]));
    a.closeAll(4404, 'unknown');
    await vi.waitFor(() => expect(l.onFatal).toHaveBeenCalledTimes(1));
    expect(l.onFatal.mock.calls[0]![0].code).toBe('NODE_UNKNOWN');
    await new Promise((resolve) => setTimeout(resolve, 5 * INITIAL_MS));
    expect(b.accepted()).toBe(0);
  });
});
