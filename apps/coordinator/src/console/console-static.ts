import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The page's own scripts, styles and images only; no frames, no <base>, forms only to the origin. The
 * build has no inline script, so nothing needs 'unsafe-inline'.
 */
export const CONSOLE_CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * The repository root's `dist/console` (what `npm run build` writes with Vite): the nearest ancestor of
 * this file holding `package.json`. Works from the sources (vitest) and from `dist/apps/coordinator/src`.
 */
export function findConsoleDirectory(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'console');
    if (dirname(dir) === dir) return null;
  }
}

const text = (res: ServerResponse, status: number, body: string): void => {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(body);
};

/**
 * Express middleware serving the built console under `/console` (outside Nest's router: static files,
 * no authentication; the page signs in through the API). `/console` and any path without a file
 * extension answer index.html (no-cache); hashed assets under `/console/assets/` are cached for a
 * year. Paths are decoded once and must stay inside the build directory (`..`, backslashes and NUL are
 * refused with 400). A missing build answers 503 with a line that says how to make it.
 */
export function serveConsole(directory: string | null = findConsoleDirectory()): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const root = directory === null ? null : resolve(directory);
  const serve = async (req: IncomingMessage, res: ServerResponse, url: string): Promise<void> => {
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-frame-options', 'DENY');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'the console is static: GET only\n');
    }
    let relative: string;
    try {
      relative = decodeURIComponent(url.slice(CONSOLE_PATH.length)).replace(/^\/+/, '');
    } catch {
      return text(res, 400, 'bad path\n');
    }
    if (relative.includes('\0') || relative.includes('\\') || relative.split('/').includes('..')) return text(res, 400, 'bad path\n');
    if (root === null || !existsSync(join(root, 'index.html'))) {
      return text(res, 503, 'the console is not built: run `npm run build` (it writes dist/console)\n');
    }
    const isPage = relative === '' || extname(relative) === '' || relative === 'index.html';
    const file = resolve(root, isPage ? 'index.html' : relative);
    if (file !== root && !file.startsWith(root + sep)) return text(res, 400, 'bad path\n');
    try {
      const info = await stat(file);
      if (!info.isFile()) return text(res, 404, 'not found\n');
      const body = await readFile(file);
      res.statusCode = 200;
      res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      res.setHeader('cache-control', isPage ? 'no-cache' : relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
      res.setHeader('content-length', String(body.length));
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      text(res, 404, 'not found\n');
    }
  };
  return (req, res, next) => {
    const url = (req.url ?? '').split('?')[0] ?? '';
    if (url !== CONSOLE_PATH && !url.startsWith(`${CONSOLE_PATH}/`)) return next();
    serve(req, res, url).catch(() => {
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
