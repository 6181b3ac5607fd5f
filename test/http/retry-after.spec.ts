import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Param, type ExecutionContext } from '@nestjs/common';
import { RateLimit, RateLimitModule, type RateLimitAlgorithm } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, ALGORITHMS, clientHeaderTracker, get, header, sleep, untilDenied } from '../support/http-suite.js';

/**
 * "Waiting Retry-After seconds then succeeds (for a client alone on its key)": short windows,
 * one route per algorithm (limit 3 per second, cost from the x-cost header). Only lower bounds
 * of time matter here: waiting longer only helps.
 */

const cost = (context: ExecutionContext) => Number(header(context, 'x-cost') ?? 1);

@Controller('retry')
class RetryController {
  @Get('fixed-window/:n')
  @RateLimit({ algorithm: 'fixed-window', limit: 3, window: '1s', cost })
  fixedWindow(@Param('n') n: string) {
    return { n };
  }

  @Get('sliding-window/:n')
  @RateLimit({ algorithm: 'sliding-window', limit: 3, window: '1s', cost })
  slidingWindow(@Param('n') n: string) {
    return { n };
  }

  @Get('sliding-log/:n')
  @RateLimit({ algorithm: 'sliding-log', limit: 3, window: '1s', cost })
  slidingLog(@Param('n') n: string) {
    return { n };
  }

  @Get('token-bucket/:n')
  @RateLimit({ algorithm: 'token-bucket', limit: 3, window: '1s', cost })
  tokenBucket(@Param('n') n: string) {
    return { n };
  }

  @Get('gcra/:n')
  @RateLimit({ algorithm: 'gcra', limit: 3, window: '1s', cost })
  gcra(@Param('n') n: string) {
    return { n };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('Retry-After on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `retry-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [RetryController],
    });
  });
  afterAll(() => app.close());

  async function deniedThenAdmitted(algorithm: RateLimitAlgorithm, cost: number) {
    const headers = { 'x-client': `retry-${algorithm}-cost-${cost}`, 'x-cost': String(cost) };
    // the path parameter differs per request; the budget is the route template's
    const denied = await untilDenied(`${app.url}/retry/${algorithm}/1`, headers);
    expect(denied.status).toBe(429);
    const retryAfter = Number(denied.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect((denied.body as { retryAfter: number }).retryAfter).toBe(retryAfter);
    await sleep(retryAfter * 1000);
    const next = await get(`${app.url}/retry/${algorithm}/2`, headers);
    expect(next.status).toBe(200);
  }

  it.each(ALGORITHMS)('%s: after waiting Retry-After seconds, the same request (cost 1, and cost 2) is admitted', async (algorithm) => {
    await Promise.all([deniedThenAdmitted(algorithm, 1), deniedThenAdmitted(algorithm, 2)]);
  });
});
