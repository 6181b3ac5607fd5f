import { Controller, Get, Headers, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { RateLimit, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { apiKeyOf } from '../api/api-key.js';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { NaiveLimiter } from './naive-limiter.js';

/** The budget of both sides of the naive-vs-atomic race: 10 per minute per API key. */
export const RACE_LIMIT = 10;
const RACE_WINDOW_MS = 60_000;

/** 5 per second per API key; what happens while Redis is away is the policy's `failMode`. */
const failModePolicy = (failMode: 'open' | 'closed' | 'local'): RateLimitPolicy => ({
  name: `fail-${failMode}`,
  algorithm: 'token-bucket',
  limit: 5,
  window: '1s',
  failMode,
  tracker: apiKeyOf,
});

/** The demo's routes: the naive limiter beside the library's, and one route per fail mode. */
@Controller('demo')
export class DemoRoutesController {
  constructor(
    private readonly naive: NaiveLimiter,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  /** The anti-pattern (see NaiveLimiter): GET, compare, SET from Node. */
  @Get('naive')
  async naiveRoute(@Headers('x-api-key') apiKey: string | undefined) {
    if (!this.naive.available) throw new HttpException('the naive limiter needs Redis', HttpStatus.NOT_IMPLEMENTED);
    const admitted = await this.naive.take(apiKey ?? 'anonymous', RACE_LIMIT, RACE_WINDOW_MS);
    if (!admitted) throw new HttpException('Too Many Requests', HttpStatus.TOO_MANY_REQUESTS);
    return { instance: this.config.instanceName, limiter: 'naive' };
  }

  /** The same budget, decided by the library's Lua script in one step. */
  @Get('atomic')
  @RateLimit({ name: 'atomic', algorithm: 'fixed-window', limit: RACE_LIMIT, window: RACE_WINDOW_MS, tracker: apiKeyOf })
  atomicRoute() {
    return { instance: this.config.instanceName, limiter: 'atomic' };
  }

  @Get('fail-open')
  @RateLimit(failModePolicy('open'))
  failOpen() {
    return { instance: this.config.instanceName, failMode: 'open' };
  }

  @Get('fail-closed')
  @RateLimit(failModePolicy('closed'))
  failClosed() {
    return { instance: this.config.instanceName, failMode: 'closed' };
  }

  @Get('fail-local')
  @RateLimit(failModePolicy('local'))
  failLocal() {
    return { instance: this.config.instanceName, failMode: 'local' };
  }
}
