import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { get as httpGet } from 'node:http';
import { Readable } from 'node:stream';
import { RateLimit, RateLimitConfigError, RateLimiterService, RateLimitModule, type RateLimitModuleOptions, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, countOf, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, burstAgent, clientHeaderTracker, concurrentStatuses, get, sleep, startupError } from '../support/http-suite.js';

/**
 * `settle`: `cost` is a reservation taken before the handler; the actual cost, known after it,
 * replaces it (a give-back when lower, capped debt when higher). Hour-long windows unless a test
 * waits a debt out.
 */

/** The handler reports the tokens it used; an LLM stand-in. */
const usedTokens = ({ value, error }: { value?: unknown; error?: unknown }) => (error ? 0 : (value as { used: number }).used);
const TOKENS: RateLimitPolicy = { name: 'tokens', limit: 10, window: '1h', cost: 5, settle: usedTokens };
/** The stream route's token budget, read through `RateLimiterService`. */
const STREAM_TOKENS: RateLimitPolicy = { name: 'tokens', bucket: 'stream-tokens', limit: 10, window: '1h' };

@Controller('settle')
class SettleController {
  @Get('used/:n')
  @RateLimit(TOKENS)
  used(@Param('n') n: string) {
    return { used: Number(n) };
  }

  /** Did expensive work, then threw: its settle still runs (here charging nothing). */
  @Get('throws')
  @RateLimit(TOKENS)
  throws() {
    throw new Error('model failed');
  }

  @Get('settle-throws')
  @RateLimit({ name: 'tokens', limit: 5, window: '1h', cost: 3, settle: () => { throw new Error('bad usage report'); } })
  settleThrows() {
    return { ok: true };
  }

  /** Uses more than it reserved: the debt takes the bucket past empty, and later requests wait it out. */
  @Get('debt')
  @RateLimit({ name: 'tokens', algorithm: 'gcra', limit: 10, window: '1s', cost: 1, settle: () => 15 })
  debt() {
    return { ok: true };
  }

  /** Streams for a while; an aborted stream settles with `aborted` on close, and its slot goes too. */
  @Get('stream')
  @RateLimit([
    { ...STREAM_TOKENS, cost: 5, settle: ({ aborted }) => (aborted ? 1 : 5) },
    { name: 'streams', algorithm: 'concurrency', limit: 1, window: '1m' },
  ])
  stream() {
    return new StreamableFile(
      Readable.from(
        (async function* () {
          for (let i = 0; i < 20; i++) {
            yield 'token ';
            await sleep(100);
          }
        })(),
      ),
    );
  }

  /** Settles to what it reserved: a burst admits exactly limit / cost. */
  @Get('exact')
  @RateLimit({ name: 'tokens', limit: 20, window: '1h', cost: 5, settle: () => 5 })
  async exact() {
    await sleep(5);
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('settle on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `settle-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [SettleController],
    });
  });
  afterAll(() => app.close());

  const send = (path: string, client: string) => get(`${app.url}/settle/${path}`, { 'x-client': client });

  it('a lower actual cost gives the rest of the reservation back before the next request', async () => {
    const remaining: string[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await send('used/1', 's1');
      statuses.push(response.status);
      remaining.push(response.headers['x-ratelimit-remaining']);
    }
    // Each request reserves 5 and keeps 1: the 7th finds 6 used, and 6 + 5 > 10.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(remaining.slice(0, 6)).toEqual(['5', '4', '3', '2', '1', '0']);
  });

  it('a handler that throws is settled too (here: nothing charged)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send('throws', 's2')).status);
    expect(statuses).toEqual(Array(5).fill(500));
    expect((await send('used/4', 's2')).status).toBe(200);
  });

  it('a settle that throws leaves the reservation standing and the response untouched', async () => {
    expect((await send('settle-throws', 's3')).status).toBe(200);
    expect((await send('settle-throws', 's3')).status).toBe(429);
  });

  it('a higher actual cost is debt: the next requests wait it out, then pass', async () => {
    expect((await send('debt', 's4')).status).toBe(200);
    const denied = await send('debt', 's4');
    expect(denied.status).toBe(429);
    const retryAfter = Number(denied.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    await sleep(retryAfter * 1000 + 50);
    expect((await send('debt', 's4')).status).toBe(200);
  });

  it('a stream the client aborts settles on close with aborted, and frees its slot', async () => {
    for (let i = 0; i < 2; i++) {
      // On a connection of its own, destroyed mid-stream (a keep-alive socket that a client
      // destroys mid-stream keeps Fastify's close waiting).
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpGet(`${app.url}/settle/stream`, { headers: { 'x-client': 's5' }, agent: false }, (res) => {
          res.once('data', () => setTimeout(() => req.destroy(), 200));
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (error) => (error.message === 'socket hang up' ? undefined : reject(error)));
      });
      expect(status).toBe(200);
      await sleep(600);
    }
    // Two aborted streams kept 1 each; their slots are free again.
    expect(await app.app.get(RateLimiterService).peek('s5', STREAM_TOKENS)).toMatchObject({ remaining: 8 });
    const next = await get(`${app.url}/settle/stream`, { 'x-client': 's5' });
    expect(next.status).toBe(200);
    expect(String(next.body).trim().split(' ')).toHaveLength(20);
    // Streamed to the end: settled at its reservation.
    expect(await app.app.get(RateLimiterService).peek('s5', STREAM_TOKENS)).toMatchObject({ remaining: 3 });
  });

  it('never admits more than the budget allows: a burst admits exactly limit / cost', async () => {
    const agent = burstAgent(100);
    const statuses = await concurrentStatuses(Array(30).fill(`${app.url}/settle/exact`), { 'x-client': 's6' }, agent);
    agent.destroy();
    expect(countOf(statuses, 200)).toBe(4);
    expect(countOf(statuses, 429)).toBe(26);
  });

  it('RateLimiterService.reserve → settle(actual) or cancel()', async () => {
    const limiter = app.app.get(RateLimiterService);
    const budget: RateLimitPolicy = { name: 'svc-tokens', limit: 10, window: '1h' };
    const reservation = await limiter.reserve('r1', budget, 8);
    expect(reservation).toMatchObject({ allowed: true, remaining: 2 });
    await reservation.settle(3);
    await reservation.settle(0);
    expect(await limiter.peek('r1', budget)).toMatchObject({ remaining: 7 });
    const second = await limiter.reserve('r1', budget, 7);
    await second.cancel();
    expect(await limiter.peek('r1', budget)).toMatchObject({ remaining: 7 });
    const third = await limiter.reserve('r1', budget, 1);
    await third.settle(12);
    // 3 + 12 = 15 used: over the limit, by at most one capacity.
    expect(await limiter.peek('r1', budget)).toMatchObject({ allowed: false, remaining: 0 });
  });
});

describe('settle start-up errors', () => {
  @Controller('both')
  class Both {
    @Get()
    @RateLimit({ limit: 5, window: '1m', settle: () => 1, refund: 'on-success' })
    both() {
      return {};
    }
  }

  @Controller('slots')
  class Slots {
    @Get()
    @RateLimit({ algorithm: 'concurrency', limit: 5, window: '1m', settle: () => 1 })
    slots() {
      return {};
    }
  }

  it.each<[string, Array<new () => object>, Partial<RateLimitModuleOptions>]>([
    ['settle and refund on one policy', [Both], {}],
    ['settle on concurrency', [Slots], {}],
    ['a module-wide policy with settle', [], { policies: [{ limit: 5, window: '1m', settle: () => 1 }] }],
    ['settle in the module defaults', [], { defaults: { settle: () => 1 } }],
  ])('%s', async (_name, controllers, options) => {
    const error = await startupError('express', { imports: [RateLimitModule.forRoot({ redis: redis.url, ...options })], controllers });
    expect(error).toBeInstanceOf(RateLimitConfigError);
    expect((error as Error).message).toContain('settle');
  });
});
