import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimiterService, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, sequential } from '../support/http-suite.js';

/**
 * `RateLimiterService.consume / peek / reset` for code outside routes, and reaching a route's
 * budget through its `bucket` (the "reset the login limit after a successful login" pattern).
 */

const LOGIN: RateLimitPolicy = { bucket: 'login', algorithm: 'fixed-window', limit: 2, window: '1h' };
const LOCKED: RateLimitPolicy = { bucket: 'locked', algorithm: 'gcra', limit: 1, window: '1h', blockFor: '1h' };
const API: RateLimitPolicy = { name: 'api', algorithm: 'sliding-log', limit: 3, window: '1h' };
const EXPORTS: RateLimitPolicy = { name: 'exports', algorithm: 'concurrency', limit: 2, window: '1h' };

@Controller('auth')
class AuthController {
  @Get('login')
  @RateLimit(LOGIN)
  login() {
    return { ok: true };
  }

  @Get('locked')
  @RateLimit(LOCKED)
  locked() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('RateLimiterService on %s', (adapter) => {
  let app: TestApp;
  let limiter: RateLimiterService;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `svc-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [AuthController],
    });
    limiter = app.app.get(RateLimiterService);
  });
  afterAll(() => app.close());

  it('acquire takes a concurrency slot until release(); consume refuses concurrency policies', async () => {
    const first = await limiter.acquire('acq', EXPORTS);
    const second = await limiter.acquire('acq', EXPORTS);
    expect([first.allowed, first.remaining, second.allowed, second.remaining]).toEqual([true, 1, true, 0]);
    const third = await limiter.acquire('acq', EXPORTS);
    expect(third).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1000 });
    await third.release();
    await first.release();
    await first.release();
    expect(await limiter.peek('acq', EXPORTS)).toMatchObject({ allowed: true, remaining: 1 });
    await second.release();
    expect(await limiter.peek('acq', EXPORTS)).toMatchObject({ allowed: true, remaining: 2 });
    await expect(limiter.consume('acq', EXPORTS)).rejects.toThrow(/acquire\(\)/);
    await expect(limiter.acquire('acq', API)).rejects.toThrow(/consume\(\)/);
  });

  it('consume takes units and returns the decision numbers', async () => {
    expect(await limiter.consume('consume', API)).toEqual({
      allowed: true,
      policy: 'api',
      limit: 3,
      remaining: 2,
      resetMs: expect.any(Number),
      retryAfterMs: 0,
    });
    expect(await limiter.consume('consume', API, 2)).toMatchObject({ allowed: true, remaining: 0 });
    const denied = await limiter.consume('consume', API);
    expect(denied).toMatchObject({ allowed: false, policy: 'api', limit: 3, remaining: 0 });
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(3_600_000);
  });

  it('consume of more than the capacity is denied with retryAfterMs null and takes nothing', async () => {
    expect(await limiter.consume('too-much', API, 4)).toMatchObject({ allowed: false, retryAfterMs: null });
    expect((await limiter.peek('too-much', API)).remaining).toBe(3);
  });

  it('peek reads the budget without taking anything', async () => {
    expect((await limiter.peek('peek', API)).remaining).toBe(3);
    await limiter.consume('peek', API);
    for (let i = 0; i < 3; i++) expect(await limiter.peek('peek', API)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('reset restores the full budget', async () => {
    await limiter.consume('reset', API, 3);
    expect((await limiter.consume('reset', API)).allowed).toBe(false);
    await limiter.reset('reset', API);
    expect((await limiter.peek('reset', API)).remaining).toBe(3);
    expect((await limiter.consume('reset', API)).allowed).toBe(true);
  });

  it('keys are independent, and a budget without bucket is the policy name', async () => {
    await limiter.consume('key-a', API, 3);
    expect((await limiter.peek('key-b', API)).remaining).toBe(3);
    // an equal policy object with the same name reaches the same budget
    expect((await limiter.peek('key-a', { ...API })).remaining).toBe(0);
  });

  it("reaches a route's budget through its bucket: peek sees HTTP traffic, consume is felt by HTTP", async () => {
    expect((await get(`${app.url}/auth/login`, { 'x-client': 'alice' })).status).toBe(200);
    expect((await limiter.peek('alice', LOGIN)).remaining).toBe(1);
    await limiter.consume('bob', LOGIN, 2);
    const denied = await get(`${app.url}/auth/login`, { 'x-client': 'bob' });
    expect(denied.status).toBe(429);
  });

  it("reset restores a route's budget through its bucket (after a successful login)", async () => {
    const results = await sequential(`${app.url}/auth/login`, 4, { 'x-client': 'carol' });
    expect(results.map((r) => r.status)).toEqual([200, 200, 429, 429]);
    await limiter.reset('carol', LOGIN);
    const after = await sequential(`${app.url}/auth/login`, 3, { 'x-client': 'carol' });
    expect(after.map((r) => r.status)).toEqual([200, 200, 429]);
  });

  it('reset lifts a blockFor block', async () => {
    const results = await sequential(`${app.url}/auth/locked`, 2, { 'x-client': 'dave' });
    expect(results.map((r) => r.status)).toEqual([200, 429]);
    expect(Number(results[1].headers['retry-after'])).toBeGreaterThanOrEqual(3600);
    await limiter.reset('dave', LOCKED);
    expect((await get(`${app.url}/auth/locked`, { 'x-client': 'dave' })).status).toBe(200);
  });
});
