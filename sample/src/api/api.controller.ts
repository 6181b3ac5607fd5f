import { Controller, Get, Header, Inject, StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimit } from 'nestjs-redis-rate-limit';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { apiKeyOf, planOf } from './api-key.js';

export const REPORTS_LIMIT = { free: 10, premium: 50 } as const;
/** Exports of one API key running at once, on every instance together. */
export const EXPORTS_IN_FLIGHT = 2;

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

  /**
   * A slow CSV export, streamed: at most 2 per API key in flight across the instances. The slot
   * is held until the stream ends (or the client goes away); a 1-minute slot TTL, renewed while
   * the stream runs, frees the slots of an instance that crashed.
   */
  @Get('export')
  @Header('content-type', 'text/csv')
  @RateLimit({ name: 'exports', algorithm: 'concurrency', limit: EXPORTS_IN_FLIGHT, window: '1m', tracker: apiKeyOf })
  export() {
    const instance = this.config.instanceName;
    return new StreamableFile(
      Readable.from(
        (async function* () {
          yield 'row,instance\n';
          for (let row = 1; row <= 5; row++) {
            await sleep(100);
            yield `${row},${instance}\n`;
          }
        })(),
      ),
    );
  }
}
