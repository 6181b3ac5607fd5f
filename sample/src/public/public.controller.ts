import { Controller, Get, Inject } from '@nestjs/common';
import { RateLimit } from 'nestjs-redis-rate-limit';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';

export const PUBLIC_LIMIT = 10;

/** An anonymous route: one budget per client IP, shared by every instance. */
@Controller('public')
export class PublicController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Get()
  @RateLimit({ algorithm: 'fixed-window', limit: PUBLIC_LIMIT, window: '30s' })
  quote() {
    return { instance: this.config.instanceName, quote: 'Simplicity is prerequisite for reliability.' };
  }
}
