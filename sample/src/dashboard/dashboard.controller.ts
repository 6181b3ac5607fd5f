import { Controller, Get, Inject } from '@nestjs/common';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';

/** What the dashboard page (`public/index.html`) needs to know: the instances to fire at. */
@Controller('dashboard')
export class DashboardController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Get('instances')
  instances() {
    return { self: this.config.instanceName, store: this.config.store, instances: this.config.dashboardInstances };
  }
}
