import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { RateLimit, RateLimiterService, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, header, sequential } from '../support/http-suite.js';

/**
 * Several policies on one route: a request is admitted iff every policy admits it, and only
 * then are all charged. "burst" is the short limit, "sustained" the long one (windows are long
 * enough that nothing refills while a test runs). Both name a `bucket`, so RateLimiterService
 * can read and prepare each budget separately.
 */

const BURST: RateLimitPolicy = { name: 'burst', algorithm: 'fixed-window', limit: 3, window: '10m', bucket: 'mp-burst' };
const SUSTAINED: RateLimitPolicy = { name: 'sustained', algorithm: 'fixed-window', limit: 5, window: '1h', bucket: 'mp-sustained' };
// the realistic shape: 1 per second with no burst on top, 5 per minute
const PER_SECOND: RateLimitPolicy = { name: 'burst', algorithm: 'gcra', limit: 1, window: '1s', bucket: 'mp-per-second' };
const PER_MINUTE: RateLimitPolicy = { name: 'sustained', algorithm: 'sliding-log', limit: 5, window: '1m', bucket: 'mp-per-minute' };
const cost = (context: ExecutionContext) => Number(header(context, 'x-cost') ?? 1);

@Controller()
class MultiController {
  @Get('multi')
  @RateLimit([
    { ...BURST, cost },
    { ...SUSTAINED, cost },
  ])
  multi() {
    return { ok: true };
  }

  @Get('per-second-and-minute')
  @RateLimit([PER_SECOND, PER_MINUTE])
  perSecondAndMinute() {
    return { ok: true };
  }
}

/** `"name";r=1;t=2, ...` as { name: { r, t } }. */
function parseRateLimit(value: string | undefined): Record<string, { r: number; t: number }> {
  const items: Record<string, { r: number; t: number }> = {};
  for (const item of (value ?? '').split(/,\s*/)) {
    const match = /^"([^"]+)";r=(\d+);t=(\d+)$/.exec(item);
    if (!match) throw new Error(`not a RateLimit item: ${item}`);
    items[match[1]] = { r: Number(match[2]), t: Number(match[3]) };
  }
  return items;
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('several policies on one route on %s', (adapter) => {
  let app: TestApp;
  let limiter: RateLimiterService;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `mp-${adapter}`, tracker: clientHeaderTracker, headers: 'both', timeout: DECISION_TIMEOUT })],
      controllers: [MultiController],
    });
    limiter = app.app.get(RateLimiterService);
  });
  afterAll(() => app.close());

  const url = () => `${app.url}/multi`;

  it('charges every policy when all admit, and reports each in the RateLimit header', async () => {
    const res = await get(url(), { 'x-client': 'all-admit' });
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('"burst";q=3;w=600, "sustained";q=5;w=3600');
    const state = parseRateLimit(res.headers.ratelimit);
    expect(Object.keys(state)).toEqual(['burst', 'sustained']);
    expect([state.burst.r, state.sustained.r]).toEqual([2, 4]);
    expect((await limiter.peek('all-admit', BURST)).remaining).toBe(2);
    expect((await limiter.peek('all-admit', SUSTAINED)).remaining).toBe(4);
  });

  it("is all-or-nothing: requests denied by 'burst' do not consume 'sustained'", async () => {
    const client = { 'x-client': 'burst-denies' };
    const results = await sequential(url(), 6, client);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429, 429, 429]);
    for (const denied of results.slice(3)) {
      expect((denied.body as { policy: string }).policy).toBe('burst');
      expect(parseRateLimit(denied.headers.ratelimit).sustained.r).toBe(2);
    }
    expect((await limiter.peek('burst-denies', SUSTAINED)).remaining).toBe(2);
    expect((await limiter.peek('burst-denies', BURST)).remaining).toBe(0);
  });

  it("is all-or-nothing: a request denied by 'sustained' does not consume 'burst'", async () => {
    expect((await limiter.consume('sustained-denies', SUSTAINED, 5)).remaining).toBe(0);
    const denied = await get(url(), { 'x-client': 'sustained-denies' });
    expect(denied.status).toBe(429);
    expect((denied.body as { policy: string }).policy).toBe('sustained');
    expect(parseRateLimit(denied.headers.ratelimit).burst.r).toBe(3);
    expect((await limiter.peek('sustained-denies', BURST)).remaining).toBe(3);
  });

  it("with 1/s and 5/min, 'sustained' is charged exactly once per admitted request, never for a denied one", async () => {
    const results = await sequential(`${app.url}/per-second-and-minute`, 10, { 'x-client': 'realistic' });
    const admitted = results.filter((r) => r.status === 200).length;
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(admitted + results.filter((r) => r.status === 429).length).toBe(10);
    expect((await limiter.peek('realistic', PER_MINUTE)).remaining).toBe(5 - admitted);
    const denied = results.find((r) => r.status === 429)!;
    expect(denied.headers['ratelimit-policy']).toBe('"burst";q=1;w=1, "sustained";q=5;w=60');
  });

  it('on a 429 denied by several policies, Retry-After, body and X-RateLimit-* follow the denying policy with the largest retry', async () => {
    // burst: 0 left, frees up in 10 min; sustained: 1 left, frees up in 1 h; the request costs 2
    await limiter.consume('both-deny', BURST, 3);
    await limiter.consume('both-deny', SUSTAINED, 4);
    const denied = await get(url(), { 'x-client': 'both-deny', 'x-cost': '2' });
    expect(denied.status).toBe(429);
    const retryAfter = Number(denied.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(600);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(denied.body).toEqual({ statusCode: 429, message: expect.any(String), policy: 'sustained', retryAfter });
    expect(denied.headers['x-ratelimit-limit']).toBe('5');
    expect(denied.headers['x-ratelimit-remaining']).toBe('1');
    const state = parseRateLimit(denied.headers.ratelimit);
    expect(state.sustained).toEqual({ r: 1, t: retryAfter });
    expect(state.burst.r).toBe(0);
    expect(state.burst.t).toBeLessThanOrEqual(600);
    // and neither budget was charged
    expect((await limiter.peek('both-deny', BURST)).remaining).toBe(0);
    expect((await limiter.peek('both-deny', SUSTAINED)).remaining).toBe(1);
  });

  it('on an admitted request, X-RateLimit-* show the policy with the smallest remaining', async () => {
    const fresh = await get(url(), { 'x-client': 'smallest-burst' });
    expect([fresh.headers['x-ratelimit-limit'], fresh.headers['x-ratelimit-remaining']]).toEqual(['3', '2']);

    await limiter.consume('smallest-sustained', SUSTAINED, 3);
    const res = await get(url(), { 'x-client': 'smallest-sustained' });
    expect(res.status).toBe(200);
    expect([res.headers['x-ratelimit-limit'], res.headers['x-ratelimit-remaining']]).toEqual(['5', '1']);
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(600);
  });
});
