import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { RateLimit, RateLimitConfigError, RateLimiterService, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, header, sleep, startupError } from '../support/http-suite.js';

/**
 * `window` as a function of the request: tiers with their own windows. The resolved window is
 * part of the budget's identity, and headers, ranges and TTLs use it.
 */

const tierWindow = (context: ExecutionContext) => {
  const tier = header(context, 'x-tier');
  if (tier === 'none') throw new UnauthorizedException('a tier is required');
  if (tier === 'broken') return 'soon' as never;
  return tier === 'fast' ? '1s' : '1h';
};
const TIERED: RateLimitPolicy = { name: 'tiered', limit: 2, window: tierWindow };

@Controller('window')
class WindowController {
  @Get()
  @RateLimit(TIERED)
  tiered() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('a window function on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `win-${adapter}`, headers: 'both', tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [WindowController],
    });
  });
  afterAll(() => app.close());

  const send = (client: string, tier: string) => get(`${app.url}/window`, { 'x-client': client, 'x-tier': tier });

  it('gives each tier its own window, in the headers too', async () => {
    const slow = await send('w1', 'slow');
    expect(slow.headers['ratelimit-policy']).toBe('"tiered";q=2;w=3600');
    expect(Number(slow.headers['x-ratelimit-reset'])).toBeGreaterThan(3500);
    expect((await send('w1', 'slow')).status).toBe(200);
    const denied = await send('w1', 'slow');
    expect(denied.status).toBe(429);
    expect(Number(denied.headers['retry-after'])).toBeGreaterThan(3500);

    // The same client on another window: another budget.
    const fast = await send('w1', 'fast');
    expect(fast.status).toBe(200);
    expect(fast.headers['ratelimit-policy']).toBe('"tiered";q=2;w=1');
    expect((await send('w1', 'fast')).status).toBe(200);
    const fastDenied = await send('w1', 'fast');
    expect(fastDenied.status).toBe(429);
    expect(fastDenied.headers['retry-after']).toBe('1');
    await sleep(Number(fastDenied.headers['retry-after']) * 1000 + 50);
    expect((await send('w1', 'fast')).status).toBe(200);
    // The hour-long budget is still spent.
    expect((await send('w1', 'slow')).status).toBe(429);
  });

  it('an HttpException it throws answers the request; an invalid window is a 500 with nothing of its cause', async () => {
    expect((await send('w2', 'none')).status).toBe(401);
    const broken = await send('w2', 'broken');
    expect(broken).toMatchObject({ status: 500, body: { statusCode: 500, message: 'Internal server error' } });
  });

  it('RateLimiterService refuses a policy whose window is a function', async () => {
    await expect(app.app.get(RateLimiterService).consume('w3', TIERED)).rejects.toThrow(/numeric limit and window/);
  });
});

describe('one bucket with window functions', () => {
  @Controller('a')
  class A {
    @Get()
    @RateLimit({ limit: 2, window: () => '1m', bucket: 'tiers' })
    a() {
      return {};
    }
  }

  @Controller('b')
  class B {
    @Get()
    @RateLimit({ limit: 2, window: () => '1m', bucket: 'tiers' })
    b() {
      return {};
    }
  }

  it('must use the same function everywhere', async () => {
    const error = await startupError('express', {
      imports: [RateLimitModule.forRoot({ redis: redis.url })],
      controllers: [A, B],
    });
    expect(error).toBeInstanceOf(RateLimitConfigError);
    expect((error as Error).message).toContain('same function');
  });
});
