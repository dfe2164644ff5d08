import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * Plain TCP clients for tests of what a misbehaving peer does below HTTP and WebSocket: trickled headers,
 * announced bodies never sent, WebSocket frames sent by hand to a server whose close frame is ignored.
 */
export interface RawSocket {
  socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves with the time (ms since open) the server closed the connection. */
  closed: Promise<number>;
  /** Resolves once `pattern` appears in what was received (as latin1 text). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function openRaw(httpUrl: string): Promise<RawSocket> {
  const url = new URL(httpUrl);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  const started = Date.now();
  const listeners: (() => void)[] = [];
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    listeners.forEach((l) => l());
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  const received = () => Buffer.concat(chunks);
  const raw: RawSocket = {
    socket,
    received,
    closed,
    waitFor: (pattern, timeoutMs = 5_000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const text = received().toString('latin1');
          if (pattern.test(text)) {
            clearTimeout(timer);
            resolve(text);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(pattern)}; got ${JSON.stringify(received().toString('latin1').slice(0, 300))}`)), timeoutMs);
        if (!check()) {
          listeners.push(() => void check());
          void closed.then(() => {
            if (!check()) {
              clearTimeout(timer);
              reject(new Error(`connection closed before ${String(pattern)}; got ${JSON.stringify(received().toString('latin1').slice(0, 300))}`));
            }
          });
        }
      }),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });
}

/** The request head of a WebSocket upgrade to `path`. */
export const upgradeHead = (host: string, path: string): string =>
  [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');

/** A masked (client-to-server) WebSocket frame: text by default, 0x8 for close. */
export function clientFrame(payload: string | Buffer, opcode = 0x1): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = randomBytes(4);
  const length = data.length < 126 ? Buffer.from([0x80 | data.length]) : Buffer.from([0x80 | 126, data.length >> 8, data.length & 0xff]);
  if (data.length > 0xffff) throw new Error('frame too large for this helper');
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask, masked]);
}

/** Completes a WebSocket handshake by hand; the socket then belongs to the caller (no close handling at all). */
export async function rawWebSocket(httpUrl: string, path = '/v1/nodes/ws'): Promise<RawSocket> {
  const raw = await openRaw(httpUrl);
  raw.socket.write(upgradeHead(new URL(httpUrl).host, path));
  await raw.waitFor(/^HTTP\/1\.1 101 /);
  return raw;
}
