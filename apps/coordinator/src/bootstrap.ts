import 'reflect-metadata';
import { ConsoleLogger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DomainExceptionFilter } from './common/domain-exception.filter.js';
import type { CoordinatorConfig } from './config/coordinator-config.js';
import { CoordinatorModule } from './coordinator.module.js';

export interface RunningCoordinator {
  app: INestApplication;
  /** e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** e.g. ws://127.0.0.1:8080/v1/nodes/ws */
  wsUrl: string;
  close(): Promise<void>;
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function makeLogger(config: CoordinatorConfig): ConsoleLogger | false {
  if (config.logLevel === 'silent') return false;
  const upTo = LEVELS.indexOf(config.logLevel);
  return new ConsoleLogger('Roundtable', { json: config.logFormat === 'json', logLevels: LEVELS.slice(0, upTo + 1) });
}

/** Builds, migrates and starts the coordinator (HTTP API and node WebSocket endpoint on one port). */
export async function startCoordinator(config: CoordinatorConfig): Promise<RunningCoordinator> {
  const app = await NestFactory.create<NestExpressApplication>(CoordinatorModule.forRoot(config), {
    logger: makeLogger(config),
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: '256kb' });
  app.useWebSocketAdapter(new WsAdapter(app));
  app.useGlobalFilters(new DomainExceptionFilter());
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    httpUrl: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/v1/nodes/ws`,
    close: () => app.close(),
  };
}
