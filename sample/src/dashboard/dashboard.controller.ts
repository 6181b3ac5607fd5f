import { Controller, Get, Inject } from '@nestjs/common';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';

/** What the dashboard page (`public/index.html`) needs to know about the deployment it shows. */
@Controller('dashboard')
export class DashboardController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Get('instances')
  instances() {
    const { instanceName, store, dashboardInstances, balancer, redisPid } = this.config;
    return { self: instanceName, store, balancer, instances: dashboardInstances, redisControl: redisPid !== undefined };
  }
}
