import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { openRaw, upgradeHead } from './support/raw-socket.js';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };

const bodyOf = (response: string): ErrorBody => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as ErrorBody;

describe('HTTP limits: slow clients, announced bodies, wrong WebSocket paths, fixed error messages', () => {
  let coord: TestCoordinator;

  beforeAll(async () => {
    coord = await startTestCoordinator({ httpHeadersTimeoutMs: 1_000, httpRequestTimeoutMs: 2_000 });
  });
  afterAll(async () => coord?.destroy());

  it('refuses a body announced larger than 256 kB at once, before reading it: 413 PAYLOAD_TOO_LARGE', async () => {
    const raw = await openRaw(coord.httpUrl);
    const started = Date.now();
    raw.socket.write(
      [
        'POST /v1/signing-requests HTTP/1.1',
        `Host: ${new URL(coord.httpUrl).host}`,
        `Authorization: Bearer ${ADMIN_TOKEN}`,
        'Content-Type: application/json',
        'Content-Length: 1000000000',
        '',
        '{"',
      ].join('\r\n'),
    );
    const response = await raw.waitFor(/\r\n\r\n\{.*\}$/s, 1_500);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toMatch(/^x-request-id: \S+/im);
    expect(bodyOf(response).error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'the request body exceeds 256 kB' });
    raw.socket.destroy();
  });

  it('a body just under the limit still works; a chunked one over it is 413', async () => {
    const small = await coord.api<ErrorBody>('POST', '/v1/nodes', { publicKey: 'ab', label: 'x'.repeat(200 * 1024) });
    expect(small.body.error.code).toBe('VALIDATION_FAILED');
    const big = JSON.stringify({ label: 'x'.repeat(300 * 1024) });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await fetch(`${coord.httpUrl}/v1/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'the request body exceeds 256 kB' });
  });

  it('closes connections that trickle request or upgrade headers after HTTP_HEADERS_TIMEOUT_MS (408)', async () => {
    const host = new URL(coord.httpUrl).host;
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openRaw(coord.httpUrl)));
    const timers = sockets.map((raw, i) => {
      const head = i % 2 === 0 ? `GET /health HTTP/1.1\r\nHost: ${host}\r\n` : upgradeHead(host, '/v1/nodes/ws').replace(/\r\n\r\n$/, '\r\n');
      raw.socket.write(head);
      return setInterval(() => raw.socket.write(`X-Slow-${i}: still here\r\n`), 200);
    });
    try {
      const closedAfter = await Promise.all(sockets.map((s) => s.closed));
      // 1 s deadline, checked every 0.5 s (Node's default: 60 s, checked every 30 s).
      for (const ms of closedAfter) expect(ms).toBeLessThan(3_000);
      for (const s of sockets) expect(s.received().toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      timers.forEach((t) => clearInterval(t));
    }
  });

  it('closes a connection whose body arrives too slowly after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const raw = await openRaw(coord.httpUrl);
    raw.socket.write(`POST /v1/nodes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    const timer = setInterval(() => raw.socket.write(' '), 200);
    try {
      expect(await raw.closed).toBeLessThan(4_000);
    } finally {
      clearInterval(timer);
    }
  });

  it('answers an upgrade to a wrong path with 404 and a body naming /v1/nodes/ws', async () => {
    const wrong = coord.wsUrl.replace('/v1/nodes/ws', '/ws');
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(wrong);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on('error', reject);
    });
    expect(answer.status).toBe(404);
    const error = (JSON.parse(answer.body) as ErrorBody).error;
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('/v1/nodes/ws');
  });

  it('answers body-parser and routing errors with fixed messages, never the parser text', async () => {
    const malformed = await coord.api<ErrorBody>('POST', '/v1/signing-requests', '{"keyId": tru');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'the request body is not valid JSON' });
    const unknown = await coord.api<ErrorBody>('GET', '/v1/no-such-thing');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({ code: 'NOT_FOUND', message: 'no such route' });
    const charset = await coord.api<ErrorBody>('POST', '/v1/nodes', '{}', { 'content-type': 'application/json; charset=klingon' });
    expect(charset.status).toBe(415);
    expect(charset.body.error).toEqual({ code: 'VALIDATION_FAILED', message: 'unsupported content encoding or charset' });
  });
});

describe('HTTP limits: connections per remote address', () => {
  let coord: TestCoordinator;

  beforeAll(async () => {
    coord = await startTestCoordinator({ maxConnectionsPerAddress: 4 });
  });
  afterAll(async () => coord?.destroy());

  it('refuses connections over MAX_CONNECTIONS_PER_ADDRESS with 429, HTTP and WebSocket alike, and serves the others', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => openRaw(coord.httpUrl)));
    const extra = await openRaw(coord.httpUrl);
    extra.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
    const refused = await extra.waitFor(/\r\n\r\n\{.*\}$/s);
    expect(refused).toMatch(/^HTTP\/1\.1 429 /);
    expect(bodyOf(refused).error.code).toBe('TOO_MANY_CONNECTIONS');
    expect(await extra.closed).toBeLessThan(2_000);

    const ws = await new Promise<number>((resolve) => {
      const socket = new WebSocket(coord.wsUrl);
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('error', () => resolve(-1));
    });
    expect(ws).toBe(429);

    // The held connections still work.
    held[0]!.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(await held[0]!.waitFor(/\r\n\r\n\{.*\}$/s)).toMatch(/^HTTP\/1\.1 200 /);

    // A closed one frees its slot.
    for (const raw of held) raw.socket.destroy();
    await Promise.all(held.map((raw) => raw.closed));
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${coord.httpUrl}/health`, { headers: { connection: 'close' } })).status).toBe(200);
  });
});
