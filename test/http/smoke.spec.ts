import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, request, startApp, type TestApp } from '../support/http-app.js';

@Controller()
class HelloController {
  @Get('hello')
  @RateLimit({ algorithm: 'gcra', limit: 3, window: '1h' })
  hello() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('smoke on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, { imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: adapter })], controllers: [HelloController] });
  });
  afterAll(() => app.close());

  it('admits 3 then 429', async () => {
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await request(`${app.url}/hello`));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(results[0].headers['x-ratelimit-remaining']).toBe('2');
    expect(results[3].body).toEqual({ statusCode: 429, message: 'Too Many Requests', policy: 'default', retryAfter: 1200 });
    expect(results[3].headers['retry-after']).toBe('1200');
  });
});
