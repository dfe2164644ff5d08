import 'reflect-metadata';
import type { RequestListener, Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { Logger as PinoLogger } from 'pino';
import { probeDatabase } from '#persistence';
import { databaseWhere, waitForDatabase } from './boot/wait-for-database.js';
import { isDatabaseUnavailable } from './common/database-errors.js';
import { DomainExceptionFilter } from './common/domain-exception.filter.js';
import type { CoordinatorConfig } from './config/coordinator-config.js';
import { serveConsole } from './console/console-static.js';
import { CoordinatorModule } from './coordinator.module.js';
import { MAX_BODY_BYTES, refuseLargeBodies } from './http/body-limit.js';
import { FrontDoor } from './http/front-door.js';
import { httpLogger } from './logging/http-logging.js';
import { createLogger, NestPinoLogger, type LogOutput } from './logging/logger.js';
import { CoordinatorMetrics } from './metrics/coordinator-metrics.js';
import { NodeWsAdapter, NODE_WS_PATH } from './nodes/node-ws.adapter.js';

export interface RunningCoordinator {
  app: INestApplication;
  /** e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** e.g. ws://127.0.0.1:8080/v1/nodes/ws */
  wsUrl: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** The root logger (main passes the one it logs its own lines with); else one is made from the config. */
  logger?: PinoLogger;
  /** Where that logger writes (tests); stdout by default. */
  logOutput?: LogOutput;
}

/** Express on the FrontDoor's server, which is already listening when Nest starts. */
class PreboundExpressAdapter extends ExpressAdapter {
  constructor(private readonly server: Server) {
    super();
  }

  override initHttpServer(): void {
    this.setHttpServer(this.server);
  }
}

/**
 * Starts the coordinator (HTTP API and node WebSocket endpoint on one port), in an order that fails
 * early: bind the port first (a port in use stops the boot before the database is touched), then wait for
 * PostgreSQL to accept connections (retrying for DATABASE_CONNECT_TIMEOUT_MS), then build the app (the
 * DataSource factory connects and migrates), recover open requests and ceremonies, and only then let
 * requests and nodes in. Until then the port answers 503.
 */
export async function startCoordinator(config: CoordinatorConfig, options: StartOptions = {}): Promise<RunningCoordinator> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat, ...(options.logOutput ? { output: options.logOutput } : {}) });
  const bootLog = logger.child({ context: 'Boot' });
  const frontDoor = new FrontDoor(
    {
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    },
    (message) => logger.warn({ context: 'Http' }, message),
  );
  await frontDoor.listen(config.port, config.host);
  try {
    const databaseUrl = config.databaseUrl;
    if (databaseUrl) {
      await waitForDatabase({
        where: databaseWhere(databaseUrl),
        timeoutMs: config.databaseConnectTimeoutMs,
        probe: (timeoutMs) => probeDatabase(databaseUrl, timeoutMs),
        isRetryable: isDatabaseUnavailable,
        log: { warn: (m) => bootLog.warn(m), log: (m) => bootLog.info(m), debug: (m) => bootLog.debug(m) },
      });
    }
    const app = await NestFactory.create<NestExpressApplication>(CoordinatorModule.forRoot(config), new PreboundExpressAdapter(frontDoor.server), {
      logger: new NestPinoLogger(logger),
      bodyParser: false,
      // Throw instead of process.abort(): the caller reports a failed boot in one line.
      abortOnError: false,
    });
    app.use(httpLogger(logger));
    app.use(app.get(CoordinatorMetrics).httpMiddleware());
    // The web console's static files (/console): before the body limit and the router, no authentication.
    app.use(serveConsole());
    app.use(refuseLargeBodies(MAX_BODY_BYTES));
    app.useBodyParser('json', { limit: MAX_BODY_BYTES });
    app.useWebSocketAdapter(new NodeWsAdapter(app, frontDoor));
    app.useGlobalFilters(new DomainExceptionFilter());
    try {
      await app.init();
    } catch (e) {
      await app.close().catch(() => undefined);
      throw e;
    }
    frontDoor.open(app.getHttpAdapter().getInstance() as RequestListener);
    const address = frontDoor.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    return {
      app,
      httpUrl: `http://${host}:${port}`,
      wsUrl: `ws://${host}:${port}${NODE_WS_PATH}`,
      close: () => app.close(),
    };
  } catch (e) {
    await frontDoor.close();
    throw e;
  }
}
