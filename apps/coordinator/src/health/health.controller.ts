import { Controller, Get, Inject, Logger } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { STORE, type Store } from '#domain';
import { Public } from '../auth/roles.js';

/**
 * Liveness and readiness: 200 when the database answers, 503 otherwise. No token required. The 503 says
 * only what is down; the cause (the driver's message) is logged as a warning, once per outage and cause.
 */
@Controller('health')
@Public()
export class HealthController {
  private readonly logger = new Logger('Health');
  private lastFailure: string | null = null;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(STORE) private readonly store: Store,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      async () => {
        const db = this.indicators.check('database');
        try {
          await this.store.ping();
          if (this.lastFailure !== null) this.logger.log('database reachable again');
          this.lastFailure = null;
          return db.up();
        } catch (e) {
          const cause = e instanceof Error ? e.message : String(e);
          if (cause !== this.lastFailure) this.logger.warn(`health check: database down: ${cause}`);
          this.lastFailure = cause;
          return db.down();
        }
      },
    ]);
  }
}
