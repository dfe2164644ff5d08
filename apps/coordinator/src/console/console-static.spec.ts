import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearedCookie, readCookie, sessionCookie } from './console-cookie.js';
import { CONSOLE_CSP, serveConsole } from './console-static.js';

/** A server with only the middleware (and a 418 behind it, to see what it lets through). */
async function serve(directory: string | null): Promise<{ server: Server; url: string }> {
  const handler = serveConsole(directory);
  const server = createServer((req, res) =>
    handler(req, res, () => {
      res.statusCode = 418;
      res.end('next');
    }),
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

/** A GET with the path sent exactly as written (fetch would resolve dot segments first). */
const rawGet = (base: string, path: string): Promise<{ status: number; body: string }> =>
  new Promise((ok, fail) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });

describe('the console\'s static files', () => {
  let dir: string;
  let built: { server: Server; url: string };
  let missing: { server: Server; url: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roundtable-console-'));
    await mkdir(join(dir, 'build', 'assets'), { recursive: true });
    await writeFile(join(dir, 'build', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'build', 'assets', 'app-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'outside the build');
    built = await serve(join(dir, 'build'));
    missing = await serve(join(dir, 'nothing-here'));
  });
  afterAll(async () => {
    built?.server.close();
    missing?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers index.html for /console and app paths, with the CSP and no-cache', async () => {
    for (const path of ['/console', '/console/', '/console/index.html', '/console/requests']) {
      const res = await fetch(`${built.url}${path}`);
      expect([path, res.status, await res.text()]).toEqual([path, 200, '<!doctype html><title>console</title>']);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it('serves hashed assets with a long cache and their type; a missing one is 404', async () => {
    const res = await fetch(`${built.url}/console/assets/app-abc123.js`);
    expect([res.status, await res.text(), res.headers.get('content-type')]).toEqual([200, 'console.log(1)', 'text/javascript; charset=utf-8']);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${built.url}/console/assets/gone.js`)).status).toBe(404);
  });

  it('refuses paths that leave the build directory, and methods other than GET and HEAD', async () => {
    for (const path of ['/console/../secret.txt', '/console/..%2Fsecret.txt', '/console/assets/..%2F..%2Fsecret.txt', '/console/%2e%2e/secret.txt', '/console/..%5Csecret.txt', '/console/a%00.js', '/console/%E0%A4%A']) {
      const res = await rawGet(built.url, path);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body).not.toContain('outside the build');
    }
    const post = await fetch(`${built.url}/console/`, { method: 'POST', body: 'x' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('leaves every other path to the next handler', async () => {
    for (const path of ['/consoles', '/v1/console/session', '/']) expect((await fetch(`${built.url}${path}`)).status).toBe(418);
  });

  it('answers 503 with how to build it when there is no build', async () => {
    const res = await fetch(`${missing.url}/console/`);
    expect([res.status, await res.text()]).toEqual([503, 'the console is not built: run `npm run build` (it writes dist/console)\n']);
    expect((await serve(null).then(async (s) => { const r = await fetch(`${s.url}/console`); s.server.close(); return r.status; }))).toBe(503);
  });
});

describe('the console cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/, Secure only when asked', () => {
    expect(sessionCookie('s3cret', { secure: false, maxAgeSeconds: 28_800 })).toBe('rt_console=s3cret; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800');
    expect(sessionCookie('s3cret', { secure: true, maxAgeSeconds: 60.5 })).toBe('rt_console=s3cret; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure');
    expect(clearedCookie(false)).toBe('rt_console=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0');
  });

  it('is read from a Cookie header among others', () => {
    expect(readCookie('a=1; rt_console=abc; b=2', 'rt_console')).toBe('abc');
    expect(readCookie('rt_consolex=1', 'rt_console')).toBeUndefined();
    expect(readCookie(undefined, 'rt_console')).toBeUndefined();
  });
});
