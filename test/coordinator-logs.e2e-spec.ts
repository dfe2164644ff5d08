import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '#crypto';
import { ADMIN_TOKEN, startTestCoordinator, type TestCoordinator } from './support/coordinator.js';
import { RawNode } from './support/raw-node.js';

type Entry = Record<string, unknown> & { level: string; msg?: string; reqId?: string; context?: string };

/** Collects what the coordinator logs, line by line. */
class Capture {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l.length > 0);
  }
  entries(): Entry[] {
    return this.lines.map((l) => JSON.parse(l) as Entry);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const settle = () => new Promise((r) => setTimeout(r, 100));

describe('coordinator logs under LOG_FORMAT=json (pino, pino-http)', () => {
  let coord: TestCoordinator;
  const out = new Capture();

  beforeAll(async () => {
    coord = await startTestCoordinator({ logLevel: 'debug', logFormat: 'json' }, { logOutput: out });
  });
  afterAll(async () => coord?.destroy());

  it("writes every line as JSON, Nest's own bootstrap lines included", () => {
    expect(out.lines.length).toBeGreaterThan(5);
    for (const line of out.lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    const contexts = new Set(out.entries().map((e) => e.context));
    expect(contexts).toContain('InstanceLoader');
    expect(contexts).toContain('RouterExplorer');
    expect(out.entries().some((e) => e.msg === 'Nest application successfully started')).toBe(true);
  });

  it('logs one line per HTTP request with its request id, taken from a valid X-Request-Id and returned in the response', async () => {
    const given = `req-${randomBytes(4).toString('hex')}`;
    const res = await fetch(`${coord.httpUrl}/health`, { headers: { 'x-request-id': given } });
    expect(res.headers.get('x-request-id')).toBe(given);
    await settle();
    const lines = out.entries().filter((e) => e.reqId === given);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', req: { method: 'GET', url: '/health' }, res: { statusCode: 200 } });
    expect(typeof lines[0]!.responseTime).toBe('number');
  });

  it('replaces an invalid or missing X-Request-Id with a generated one', async () => {
    for (const headers of [{ 'x-request-id': 'has spaces and ; semicolons' }, { 'x-request-id': 'x'.repeat(200) }, {}] as Record<string, string>[]) {
      const res = await fetch(`${coord.httpUrl}/health`, { headers });
      const id = res.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      await settle();
      expect(out.entries().filter((e) => e.reqId === id)).toHaveLength(1);
    }
  });

  it('logs what a client caused (4xx) as a warning with its error code, without a stack, and never the bearer token', async () => {
    const id = `bad-token-${randomBytes(4).toString('hex')}`;
    await fetch(`${coord.httpUrl}/v1/nodes`, { headers: { authorization: 'Bearer wrong-wrong-wrong-wrong', 'x-request-id': id } });
    const malformed = `bad-json-${randomBytes(4).toString('hex')}`;
    await fetch(`${coord.httpUrl}/v1/nodes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-request-id': malformed },
      body: '{"label":',
    });
    await settle();
    const [unauthorized] = out.entries().filter((e) => e.reqId === id);
    expect(unauthorized).toMatchObject({ level: 'warn', errorCode: 'UNAUTHORIZED', res: { statusCode: 401 } });
    const [invalid] = out.entries().filter((e) => e.reqId === malformed);
    expect(invalid).toMatchObject({ level: 'warn', errorCode: 'VALIDATION_FAILED', res: { statusCode: 400 } });
    for (const line of [unauthorized, invalid]) {
      expect(line).not.toHaveProperty('err');
      expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
    }
    expect(out.text).not.toContain(ADMIN_TOKEN);
    expect(out.text).not.toContain('wrong-wrong-wrong-wrong');
  });

  it('logs a refused node authentication as a warning without a stack', async () => {
    const node = await RawNode.connect(coord.wsUrl, generateIdentity());
    await node.closed();
    await settle();
    const refused = out.entries().filter((e) => e.context === 'NodeGateway' && /refused the authentication/.test(e.msg ?? ''));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 'warn' });
    expect(refused[0]).not.toHaveProperty('err');
  });
});

describe('coordinator logs under LOG_FORMAT=text', () => {
  it('writes no ANSI colour codes when the output is not a terminal, and colours on a terminal', async () => {
    for (const isTTY of [false, true]) {
      const out = new Capture(isTTY);
      const coord = await startTestCoordinator({ logLevel: 'log', logFormat: 'text' }, { logOutput: out });
      try {
        await fetch(`${coord.httpUrl}/v1/nodes`);
        await settle();
      } finally {
        await coord.destroy();
      }
      expect(out.lines.length).toBeGreaterThan(5);
      // eslint-disable-next-line no-control-regex
      const ansi = /\x1b\[/;
      if (isTTY) {
        if (!process.env.NO_COLOR) expect(out.text).toMatch(ansi);
        continue;
      }
      expect(out.text).not.toMatch(ansi);
      expect(out.text).toMatch(/ WARN {2}GET \/v1\/nodes 401/);
      expect(out.text).toMatch(/ INFO {2}\[RoutesResolver\] /);
    }
  });
});
