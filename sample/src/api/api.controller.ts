import { Controller, Get, Inject } from '@nestjs/common';
import { RateLimit } from 'nestjs-redis-rate-limit';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { apiKeyOf, planOf } from './api-key.js';

export const REPORTS_LIMIT = { free: 10, premium: 50 } as const;

/** A keyed API: budgets follow the API key, whichever instance serves the request. */
@Controller('api')
export class ApiController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  /** A smooth 2 requests per second, with bursts of up to 10. */
  @Get('items')
  @RateLimit({ algorithm: 'gcra', limit: 120, window: '1m', burst: 10, tracker: apiKeyOf })
  items() {
    return { instance: this.config.instanceName, items: ['apple', 'pear', 'plum'] };
  }

  /** Tiers: the limit is a function of the request. */
  @Get('reports')
  @RateLimit({ algorithm: 'sliding-window', limit: (context) => REPORTS_LIMIT[planOf(context)], window: '1m', tracker: apiKeyOf })
  reports() {
    return { instance: this.config.instanceName, reports: ['daily', 'weekly'] };
  }
}
