import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { writeRawAnswer, type FrontDoor } from '../http/front-door.js';

/** The node endpoint's path (the gateway's `path`). */
export const NODE_WS_PATH = '/v1/nodes/ws';

/**
 * Nest's `ws` adapter with two changes. Upgrades come through the FrontDoor (which holds them back until
 * the app is ready), and an upgrade to any other path is answered `404` with a short body naming the
 * right one, instead of a dropped socket that a client can only retry. And `ws` errors, which are always
 * about what a peer sent (bad framing, an oversized frame), are warnings without a stack.
 *
 * Memory per connection matters (issue 13: 10,000 nodes on one process): the gateway reads its frames
 * itself (no @SubscribeMessage), so Nest's per-client rxjs message pipeline (a dozen subscribers and
 * some thirty closures that also JSON-parse every frame a second time) is not built, and the error
 * listener keeps the peer's address, not the whole upgrade request.
 */
export class NodeWsAdapter extends WsAdapter {
  private readonly log = new Logger('WebSocket');

  constructor(
    app: INestApplicationContext,
    private readonly frontDoor: FrontDoor,
  ) {
    super(app);
  }

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    this.httpServersRegistry.set(port, httpServer);
    this.frontDoor.setUpgradeListener((req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const pathname = pathOf(req.url);
      const servers = (this.wsServersRegistry.get(port) ?? []) as (WebSocketServer & { path: string })[];
      const server = servers.find((s) => s.path === pathname);
      if (!server) {
        writeRawAnswer(socket, 404, { code: 'NOT_FOUND', message: `no WebSocket endpoint at this path: signer nodes connect to ${NODE_WS_PATH}` });
        return;
      }
      server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
    });
    return httpServer;
  }

  /** No handlers (the gateway listens to 'message' itself): nothing to bind. */
  override bindMessageHandlers(...args: Parameters<WsAdapter['bindMessageHandlers']>): void {
    const [, handlers] = args;
    if (handlers.length === 0) return;
    super.bindMessageHandlers(...args);
  }

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      const from = req.socket.remoteAddress ?? 'unknown';
      ws.on('error', (err: Error) => this.log.warn(`connection from ${from}: ${err.message}`));
    });
    server.on('error', (err: Error) => this.log.error(err.stack ?? err.message));
    return server;
  }
}

function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'ws://localhost').pathname;
  } catch {
    return null;
  }
}
