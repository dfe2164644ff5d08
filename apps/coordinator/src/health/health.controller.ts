import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { STORE, type Store } from '#domain';

/** Liveness and readiness: 200 when the database answers, 503 otherwise. No token required. */
@Controller('health')
export class HealthController {
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
          return db.up();
        } catch (e) {
          return db.down({ message: (e as Error).message });
        }
      },
    ]);
  }
}
