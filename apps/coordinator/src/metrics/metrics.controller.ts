import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../auth/roles.js';
import { CoordinatorMetrics } from './coordinator-metrics.js';

/**
 * `GET /metrics` in the Prometheus text format. Public: a scraper usually holds no token. What it reveals
 * is listed in docs/threat-model.md (counts and timings, never an id, a payload or a key).
 */
@Controller('metrics')
@Public()
export class MetricsController {
  constructor(@Inject(CoordinatorMetrics) private readonly metrics: CoordinatorMetrics) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.registry.metrics();
    res.status(200).type(this.metrics.registry.contentType).send(body);
  }
}
