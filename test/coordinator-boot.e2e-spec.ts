import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COORDINATOR_MAIN, freePort, waitFor } from '#harness';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const TOKEN = 'boot-test-admin-token-0123456789';

interface Run {
  /** stdout and stderr, as written. */
  text: () => string;
  lines: () => string[];
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

/** Every process started here, killed after the tests if a failing test left it running. */
const children: ChildProcess[] = [];

/** The built coordinator binary with exactly this environment (plus PATH), as an operator runs it. */
function coordinator(env: Record<string, string>, args: string[] = []): Run {
  const child = spawn(process.execPath, [COORDINATOR_MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  return {
    text: () => text,
    lines: () => text.split('\n').filter((l) => l.length > 0),
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    kill: (signal) => child.kill(signal),
  };
}

/** The message of a log line in either format. */
const messageOf = (line: string): string => {
  try {
    const { msg } = JSON.parse(line) as { msg?: unknown };
    return typeof msg === 'string' ? msg : line;
  } catch {
    return line;
  }
};

describe('the coordinator binary: --help, --version, boot order and failures', () => {
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(COORDINATOR_MAIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    dir = await mkdtemp(join(tmpdir(), 'roundtable-boot-'));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('--help lists every environment variable with its default; --version prints the version', async () => {
    const help = coordinator({}, ['--help']);
    expect(await help.exited).toBe(0);
    const expected: [string, string][] = [
      ['ROUNDTABLE_ADMIN_TOKEN', '(required)'],
      ['PORT', '8080'],
      ['HOST', '127.0.0.1'],
      ['DATABASE_CONNECT_TIMEOUT_MS', '30000'],
      ['HTTP_HEADERS_TIMEOUT_MS', '5000'],
      ['MAX_CONNECTIONS_PER_ADDRESS', '256'],
      ['LOG_FORMAT', 'text'],
    ];
    for (const [name, value] of expected) {
      expect(help.text()).toMatch(new RegExp(`^ {2}${name} +${value.replace(/[()]/g, '\\$&')} +\\S`, 'm'));
    }
    const version = coordinator({}, ['--version']);
    expect(await version.exited).toBe(0);
    const { version: packageVersion } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version.text().trim()).toBe(packageVersion);
    const unknown = coordinator({}, ['--frobnicate']);
    expect(await unknown.exited).toBe(2);
  });

  it('refuses the old ADMIN_TOKEN name, telling to rename it', async () => {
    const run = coordinator({ ADMIN_TOKEN: TOKEN, DATA_DIR: 'memory://', PORT: String(await freePort()) });
    expect(await run.exited).toBe(2);
    expect(run.text()).toMatch(/ADMIN_TOKEN: was renamed; set ROUNDTABLE_ADMIN_TOKEN instead/);
  });

  describe('a port in use', () => {
    let blocker: Server;
    let port: number;
    let database: TestDatabase | undefined;
    beforeAll(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      port = (blocker.address() as { port: number }).port;
      if (process.env.DATABASE_URL) database = await createTestDatabase();
    });
    afterAll(async () => {
      await new Promise((resolve) => blocker.close(resolve));
      await database?.drop();
    });

    it('fails with one line naming the port, before the database is touched (no migration runs)', async () => {
      const dataDir = join(dir, 'port-in-use');
      const run = coordinator({
        ROUNDTABLE_ADMIN_TOKEN: TOKEN,
        PORT: String(port),
        DATA_DIR: dataDir,
        ...(database?.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
      });
      expect(await run.exited).toBe(1);
      expect(run.lines()).toHaveLength(1);
      expect(run.text()).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use`));
      // Nothing was created or migrated.
      expect(existsSync(dataDir) ? readdirSync(dataDir) : []).toEqual([]);
      if (database?.databaseUrl) {
        const client = new pg.Client({ connectionString: database.databaseUrl });
        await client.connect();
        try {
          const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('public.schema_migrations') AS t");
          expect(rows[0]!.t).toBeNull();
        } finally {
          await client.end();
        }
      }
    });
  });

  it('a database unreachable at boot: one line, retries with backoff for DATABASE_CONNECT_TIMEOUT_MS, then one line and exit 1', async () => {
    const closedPort = await freePort();
    const started = Date.now();
    const run = coordinator({
      ROUNDTABLE_ADMIN_TOKEN: TOKEN,
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://nobody:secret-password@127.0.0.1:${closedPort}/roundtable_test`,
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
    });
    expect(await run.exited).toBe(1);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(15_000);
    const lines = run.lines();
    expect(lines, run.text()).toHaveLength(2);
    expect(messageOf(lines[0]!)).toMatch(new RegExp(`database at 127\\.0\\.0\\.1:${closedPort}/roundtable_test unreachable \\(.*ECONNREFUSED.*\\); retrying for up to 2 s`));
    expect(messageOf(lines[1]!)).toMatch(/still unreachable after .* s .*giving up \(DATABASE_CONNECT_TIMEOUT_MS=2000\)/);
    expect(run.text()).not.toContain('secret-password');
  });

  it('answers 503 on its port while the database is still unreachable', async () => {
    const port = await freePort();
    const run = coordinator({
      ROUNDTABLE_ADMIN_TOKEN: TOKEN,
      PORT: String(port),
      DATABASE_URL: `postgres://nobody@127.0.0.1:${await freePort()}/roundtable_test`,
      DATABASE_CONNECT_TIMEOUT_MS: '3000',
    });
    const res = await waitFor('the port to answer', () => fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined), 3_000, 50);
    expect(res.status).toBe(503);
    expect(await run.exited).toBe(1);
  });

  for (const format of ['json', 'text'] as const) {
    it(`a real start and stop under LOG_FORMAT=${format}: ${format === 'json' ? 'every line is JSON' : 'no ANSI colour codes on a pipe'}`, async () => {
      const port = await freePort();
      const run = coordinator({ ROUNDTABLE_ADMIN_TOKEN: TOKEN, PORT: String(port), DATA_DIR: join(dir, `data-${format}`), LOG_FORMAT: format });
      await waitFor('the coordinator to be healthy', async () => ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok ? true : undefined), 60_000, 100);
      await fetch(`http://127.0.0.1:${port}/v1/nodes`);
      run.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      const lines = run.lines();
      expect(lines.some((l) => /listening on http:\/\/127\.0\.0\.1/.test(l))).toBe(true);
      expect(lines.some((l) => /Nest application successfully started/.test(l))).toBe(true);
      expect(lines.some((l) => /GET \/v1\/nodes 401/.test(l))).toBe(true);
      // eslint-disable-next-line no-control-regex
      expect(run.text()).not.toMatch(/\x1b\[/);
      if (format === 'json') for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    });
  }
});
