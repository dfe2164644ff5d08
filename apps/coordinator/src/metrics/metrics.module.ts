import { Global, Module } from '@nestjs/common';
import { SIGNING_METRICS } from '#domain';
import { AuditLogLength } from './audit-log-gauges.js';
import { CoordinatorMetrics } from './coordinator-metrics.js';
import { MetricsController } from './metrics.controller.js';

/** Global: the signing service (SigningModule) takes SIGNING_METRICS from here. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [AuditLogLength, CoordinatorMetrics, { provide: SIGNING_METRICS, useExisting: CoordinatorMetrics }],
  exports: [CoordinatorMetrics, SIGNING_METRICS],
})
export class MetricsModule {}
