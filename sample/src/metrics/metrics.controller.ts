import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics-registry.js';

/** What a Prometheus server scrapes; the dashboard's chart reads it too. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  async metrics(@Res({ passthrough: true }) res: { setHeader(name: string, value: string): void }) {
    res.setHeader('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
