import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimiterService, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, header, sequential } from '../support/http-suite.js';

/** What users of @nestjs/throttler rely on: `skipIf` (module and policy), a custom denial message, and limiting turned off. */

@Controller()
class OptionsController {
  @Get('limited')
  @RateLimit({ limit: 2, window: '1h' })
  limited() {
    return { ok: true };
  }

  /** Two policies; `burst` is skipped for requests marked `x-internal`. */
  @Get('two')
  @RateLimit([
    { name: 'burst', limit: 1, window: '1h', skipIf: (ctx) => header(ctx, 'x-internal') === 'yes' },
    { name: 'hourly', limit: 3, window: '1h' },
  ])
  two() {
    return { ok: true };
  }

  @Get('bad-skip')
  @RateLimit({ limit: 5, window: '1h', skipIf: (() => 'yes') as never })
  badSkip() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('skipIf, errorMessage and enabled on %s', (adapter) => {
  let app: TestApp;
  let disabled: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({
          redis: redis.url,
          keyPrefix: `opt-${adapter}`,
          tracker: clientHeaderTracker,
          timeout: DECISION_TIMEOUT,
          skipIf: (ctx) => header(ctx, 'x-health-check') === '1',
          errorMessage: (_ctx, decision) => `Easy: ${decision.limit} per hour on ${decision.policy}`,
        }),
      ],
      controllers: [OptionsController],
    });
    // No Redis at all: with limiting off the app must not need one.
    disabled = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ enabled: false, tracker: clientHeaderTracker })],
      controllers: [OptionsController],
    });
  });
  afterAll(async () => {
    await app.close();
    await disabled.close();
  });

  it("the module's skipIf leaves a request unlimited and uncharged", async () => {
    const headers = { 'x-client': 'skip', 'x-health-check': '1' };
    for (const res of await sequential(`${app.url}/limited`, 4, headers)) {
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
    const charged = await sequential(`${app.url}/limited`, 3, { 'x-client': 'skip' });
    expect(charged.map((r) => r.status)).toEqual([200, 200, 429]);
  });

  it("a policy's skipIf skips that policy only", async () => {
    const inside = await sequential(`${app.url}/two`, 4, { 'x-client': 'inside', 'x-internal': 'yes' });
    expect(inside.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(inside[3].body).toMatchObject({ policy: 'hourly' });
    const outside = await sequential(`${app.url}/two`, 2, { 'x-client': 'outside' });
    expect(outside.map((r) => r.status)).toEqual([200, 429]);
    expect(outside[1].body).toMatchObject({ policy: 'burst' });
  });

  it('a skipIf that returns no boolean is a 500, never an admission', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await get(`${app.url}/bad-skip`, { 'x-client': 'bad' });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
    }
  });

  it('errorMessage shapes the message of the 429 body', async () => {
    const denied = (await sequential(`${app.url}/limited`, 3, { 'x-client': 'message' }))[2];
    expect(denied.status).toBe(429);
    expect(denied.body).toEqual({ statusCode: 429, message: 'Easy: 2 per hour on default', policy: 'default', retryAfter: expect.any(Number) });
  });

  it('enabled: false limits nothing, writes no headers and needs no Redis; the service admits too', async () => {
    for (const res of await sequential(`${disabled.url}/limited`, 5, { 'x-client': 'off' })) {
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
    const service = disabled.app.get(RateLimiterService);
    for (let i = 0; i < 3; i++) expect((await service.consume('off', { limit: 1, window: '1h' })).allowed).toBe(true);
  });
});
