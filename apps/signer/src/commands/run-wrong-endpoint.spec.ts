import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '#signer';
import { initTestKeystore } from '../../../../libs/signer/src/testing/key-fixtures.js';
import { ExitCode } from '../cli-io.js';
import { captureIo, useCommandSandbox } from './cli-test-support.js';
import { runSignerNode } from './run.command.js';

/** An HTTP server that answers every WebSocket upgrade with `status`, counting them. */
async function refusingServer(status: number): Promise<{ url: string; upgrades: () => number; close: () => Promise<void> }> {
  let upgrades = 0;
  const server: Server = createServer();
  server.on('upgrade', (_req, socket) => {
    upgrades++;
    const body = '{"error":{"code":"NOT_FOUND","message":"signer nodes connect to /v1/nodes/ws"}}';
    socket.end(`HTTP/1.1 ${status} X\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    upgrades: () => upgrades,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('run command against a URL that is not the node endpoint', () => {
  const sandbox = useCommandSandbox();
  let keystore: string;
  let server: Awaited<ReturnType<typeof refusingServer>> | undefined;
  beforeEach(async () => {
    keystore = join(sandbox.dir.path, 'ks');
    await initTestKeystore(keystore);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const run = (coordinator: string, signal?: AbortSignal) => {
    const c = captureIo();
    const exit = runSignerNode(
      { keystore, coordinator, approveAll: true },
      { io: c.io, logger: silentLogger, reconnect: { initialMs: 20, maxMs: 50 }, ...(signal ? { signal } : {}) },
    );
    return { exit, err: c.err };
  };

  for (const status of [404, 400]) {
    it(`stops at once with exit 1 and a message naming the URL and /v1/nodes/ws on HTTP ${status}, without retrying`, async () => {
      server = await refusingServer(status);
      const url = `${server.url}/ws`;
      const { exit, err } = run(url);
      expect(await exit).toBe(ExitCode.ERROR);
      expect(err).toHaveLength(1);
      expect(err[0]).toContain(url);
      expect(err[0]).toContain('/v1/nodes/ws');
      expect(err[0]).toContain(`HTTP ${status}`);
      expect(server.upgrades()).toBe(1);
    });
  }

  it('keeps retrying on other statuses (a coordinator that is starting answers 503)', async () => {
    server = await refusingServer(503);
    const controller = new AbortController();
    const { exit } = run(`${server.url}/v1/nodes/ws`, controller.signal);
    await vi.waitFor(() => expect(server!.upgrades()).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    controller.abort();
    expect(await exit).toBe(ExitCode.OK);
  });
});
