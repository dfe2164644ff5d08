import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { afterEach, describe, expect, it } from 'vitest';
import { STORE } from '#domain';
import { DomainExceptionFilter } from '../common/domain-exception.filter.js';
import { HealthController } from './health.controller.js';

const DRIVER_MESSAGE = 'connect ECONNREFUSED 10.9.8.7:5432 (password authentication for "roundtable")';

/** Collects warnings; everything else is dropped. */
class Warnings implements LoggerService {
  readonly seen: string[] = [];
  log(): void {}
  error(message: unknown): void {
    this.seen.push(`error: ${String(message)}`);
  }
  warn(message: unknown): void {
    this.seen.push(String(message));
  }
}

describe('GET /health when the database is down', () => {
  let app: INestApplication | undefined;
  afterEach(async () => app?.close());

  async function start(ping: () => Promise<void>, logger: LoggerService): Promise<string> {
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [{ provide: STORE, useValue: { ping } }],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    app.useGlobalFilters(new DomainExceptionFilter());
    await app.listen(0, '127.0.0.1');
    return app.getUrl();
  }

  it("answers 503 naming only what is down, and logs the driver's message as a warning, once", async () => {
    const logger = new Warnings();
    const url = await start(() => Promise.reject(new Error(DRIVER_MESSAGE)), logger);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url.replace('[::1]', '127.0.0.1')}/health`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({
        error: {
          code: 'DATABASE_UNAVAILABLE',
          message: 'a dependency is down',
          details: { status: 'error', info: {}, error: { database: { status: 'down' } }, details: { database: { status: 'down' } } },
        },
      });
      expect(text).not.toContain('ECONNREFUSED');
    }
    expect(logger.seen).toEqual([`health check: database down: ${DRIVER_MESSAGE}`]);
  });

  it('answers 200 when the database answers', async () => {
    const url = await start(() => Promise.resolve(), new Warnings());
    const res = await fetch(`${url.replace('[::1]', '127.0.0.1')}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });
});
