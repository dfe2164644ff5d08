import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, RoundtableClient } from './index.js';

/** A tiny HTTP server standing in for the coordinator: each test sets what it answers. */
let server: Server;
let baseUrl: string;
let handler: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_q, _b, res) => res.end();
const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const send = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

const NODE = {
  id: '0b6c5a4e-2a54-4f0e-9b3e-7f1d2c3b4a59',
  label: 'node-a',
  publicKey: 'ab'.repeat(32),
  status: 'active',
  connected: true,
  createdAt: '2026-12-01T00:00:00.000Z',
  revokedAt: null,
  lastSeenAt: null,
  policyHash: null,
  policyReportedAt: null,
};

describe('RoundtableClient', () => {
  it('builds the path from the parameters, sends the token and parses the answer with the schema', async () => {
    handler = (_req, _body, res) => send(res, 200, NODE);
    const client = new RoundtableClient({ baseUrl, token: 'rt_secret' });
    const node = await client.call('getNode', { params: { id: NODE.id.toUpperCase() } });
    const last = seen.at(-1)!;
    expect(last.method).toBe('GET');
    expect(last.url).toBe(`/v1/nodes/${NODE.id.toUpperCase()}`);
    expect(last.headers?.authorization).toBe('Bearer rt_secret');
    expect(node).toEqual(NODE);
    expect(node.connected).toBe(true);
  });

  it('answers an API error as ApiError with its status, code, message and details', async () => {
    handler = (_req, _body, res) => send(res, 404, { error: { code: 'NODE_NOT_FOUND', message: 'no such node', details: { id: 'x' } } });
    const client = new RoundtableClient({ baseUrl, token: 't' });
    const error = await client.call('getNode', { params: { id: NODE.id } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: 'NODE_NOT_FOUND', message: 'no such node', details: { id: 'x' } });
  });

  it('refuses an answer that does not match the schema, naming the field', async () => {
    handler = (_req, _body, res) => send(res, 200, { status: 'up', database: 42 });
    const error = await new RoundtableClient({ baseUrl }).call('health').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('BAD_RESPONSE');
  });

  it('refuses a status the route does not define', async () => {
    handler = (_req, _body, res) => send(res, 202, {});
    const error = await new RoundtableClient({ baseUrl }).call('health').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', status: 202 });
  });

  it('sends the query and the JSON body, and the CSRF token on a POST only', async () => {
    handler = (_req, _body, res) => send(res, 500, { error: { code: 'INTERNAL', message: 'x' } });
    const client = new RoundtableClient({ baseUrl, csrfToken: () => 'csrf-1' });
    await client.call('listSigningRequests', { query: { status: 'pending', limit: 5 } }).catch(() => undefined);
    let last = seen.at(-1)!;
    expect(last.url).toBe('/v1/signing-requests?status=pending&limit=5');
    expect(last.headers?.['x-csrf-token']).toBeUndefined();
    expect(last.headers?.authorization).toBeUndefined();
    await client.call('revokeGrant', { params: { id: NODE.id }, body: { reason: 'done' } }).catch(() => undefined);
    last = seen.at(-1)!;
    expect(last.method).toBe('POST');
    expect(last.url).toBe(`/v1/grants/${NODE.id}/revoke`);
    expect(JSON.parse(last.body!)).toEqual({ reason: 'done' });
    expect(last.headers?.['content-type']).toBe('application/json');
    expect(last.headers?.['x-csrf-token']).toBe('csrf-1');
  });

  it('returns a non-JSON answer as text, and raw() leaves the body unread', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('roundtable_up 1\n');
    };
    const client = new RoundtableClient({ baseUrl });
    expect(await client.call('metrics')).toBe('roundtable_up 1\n');
    const res = await client.raw('exportAuditLog', { query: { format: 'csv' } });
    expect(await res.text()).toBe('roundtable_up 1\n');
    expect(seen.at(-1)!.url).toBe('/v1/audit/export?format=csv');
  });

  it('reports an unreachable coordinator and a bad base URL as typed errors', async () => {
    await expect(new RoundtableClient({ baseUrl: 'http://127.0.0.1:1' }).call('health')).rejects.toMatchObject({ code: 'UNREACHABLE', status: 0 });
    expect(() => new RoundtableClient({ baseUrl: 'ftp://x' })).toThrow(ApiError);
    expect(() => new RoundtableClient({ baseUrl: 'not a url' })).toThrow(/not a URL/);
  });

  it('refuses to call a route with a missing path parameter', async () => {
    const client = new RoundtableClient({ baseUrl });
    await expect(client.call('getNode', { params: { id: '' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
