import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type Type } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimit, RateLimitModule, type RateLimitAlgorithm } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, ALGORITHMS, clientHeaderTracker, get, header, keysWithTtl, sequential } from '../support/http-suite.js';

/**
 * Per algorithm, through real HTTP and a real Redis: exact limits, the 429 shape, cost,
 * cost above capacity, denials that charge nothing, and a TTL on every key.
 * Windows are a day long so that nothing refills while a test runs.
 */

const DAY_MS = 86_400_000;
const BLOCK_MS = 3_600_000;

/** TTL bound of the contract: horizon + blockFor + 1 s (buckets here have burst = limit: horizon = W). */
const horizonMs = (algorithm: RateLimitAlgorithm, windowMs: number) => (algorithm === 'sliding-window' ? 2 * windowMs : windowMs);

function algorithmController(algorithm: RateLimitAlgorithm): Type {
  @Controller(algorithm)
  class AlgorithmController {
    @Get('limit')
    @RateLimit({ algorithm, limit: 3, window: '1d' })
    limit() {
      return { ok: true };
    }

    @Get('static-cost')
    @RateLimit({ algorithm, limit: 5, window: '1d', cost: 2 })
    staticCost() {
      return { ok: true };
    }

    @Get('header-cost')
    @RateLimit({ algorithm, limit: 5, window: '1d', cost: (context) => Number(header(context, 'x-cost') ?? 1) })
    headerCost() {
      return { ok: true };
    }

    @Get('block')
    @RateLimit({ algorithm, limit: 1, window: '1d', blockFor: '1h' })
    block() {
      return { ok: true };
    }
  }
  Object.defineProperty(AlgorithmController, 'name', { value: `${algorithm.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Controller` });
  return AlgorithmController;
}

const CONTROLLERS = ALGORITHMS.map(algorithmController);

let redis: RedisServer;
let raw: Redis;
beforeAll(async () => {
  redis = await RedisServer.start();
  raw = redis.client();
});
afterAll(async () => {
  raw.disconnect();
  await redis.destroy();
});

describe.each(ADAPTERS)('algorithms on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `alg-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: CONTROLLERS,
    });
  });
  afterAll(() => app.close());

  describe.each(ALGORITHMS)('%s', (algorithm) => {
    const url = (path: string) => `${app.url}/${algorithm}/${path}`;
    const client = (test: string) => ({ 'x-client': `${algorithm}-${test}` });

    it('admits exactly `limit` requests, then answers 429 with the contract body and a Retry-After header', async () => {
      const results = await sequential(url('limit'), 5, client('limit'));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
      expect(results.slice(0, 3).map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0']);
      expect(results[0].headers['x-ratelimit-limit']).toBe('3');
      for (const denied of results.slice(3)) {
        const retryAfter = denied.headers['retry-after'];
        expect(retryAfter).toMatch(/^[1-9]\d*$/);
        expect(Number(retryAfter)).toBeLessThanOrEqual(horizonMs(algorithm, DAY_MS) / 1000);
        expect(denied.body).toEqual({ statusCode: 429, message: expect.any(String), policy: 'default', retryAfter: Number(retryAfter) });
        expect(denied.headers['x-ratelimit-remaining']).toBe('0');
      }
    });

    it('charges a static cost > 1 that many units', async () => {
      const results = await sequential(url('static-cost'), 3, client('static-cost'));
      expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(results.slice(0, 2).map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['3', '1']);
      // the denied cost-2 request (1 unit left) charged nothing
      expect(results[2].headers['x-ratelimit-remaining']).toBe('1');
    });

    it('charges a cost computed from the request that many units', async () => {
      const first = await get(url('header-cost'), { ...client('fn-cost'), 'x-cost': '4' });
      expect(first.status).toBe(200);
      expect(first.headers['x-ratelimit-remaining']).toBe('1');
      const second = await get(url('header-cost'), { ...client('fn-cost'), 'x-cost': '1' });
      expect(second.status).toBe(200);
      expect(second.headers['x-ratelimit-remaining']).toBe('0');
      expect((await get(url('header-cost'), { ...client('fn-cost'), 'x-cost': '1' })).status).toBe(429);
    });

    it('denies a cost above capacity with no Retry-After header and retryAfter: null', async () => {
      const denied = await get(url('header-cost'), { ...client('over-capacity'), 'x-cost': '6' });
      expect(denied.status).toBe(429);
      expect(denied.headers['retry-after']).toBeUndefined();
      expect(denied.body).toEqual({ statusCode: 429, message: expect.any(String), policy: 'default', retryAfter: null });
      // and it took nothing: the full capacity is still there
      const after = await get(url('header-cost'), { ...client('over-capacity'), 'x-cost': '5' });
      expect(after.status).toBe(200);
      expect(after.headers['x-ratelimit-remaining']).toBe('0');
    });

    it('charges nothing for a denied request: after a denied cost-3 request, a cost-1 request passes on the last unit', async () => {
      const headers = client('denied-charges-nothing');
      expect((await get(url('header-cost'), { ...headers, 'x-cost': '4' })).status).toBe(200);
      const denied = await get(url('header-cost'), { ...headers, 'x-cost': '3' });
      expect(denied.status).toBe(429);
      expect(denied.headers['x-ratelimit-remaining']).toBe('1');
      const last = await get(url('header-cost'), { ...headers, 'x-cost': '1' });
      expect(last.status).toBe(200);
      expect(last.headers['x-ratelimit-remaining']).toBe('0');
      expect((await get(url('header-cost'), { ...headers, 'x-cost': '1' })).status).toBe(429);
    });

    it('gives every key it writes a TTL within horizon + blockFor + 1 s', async () => {
      const before = new Set((await keysWithTtl(raw)).keys());
      const headers = client('ttl');
      await sequential(url('limit'), 4, headers);
      await sequential(url('static-cost'), 3, headers);
      await sequential(url('block'), 3, headers); // the denial writes a block key
      const written = [...(await keysWithTtl(raw))].filter(([key]) => !before.has(key));
      expect(written.length).toBeGreaterThanOrEqual(4);
      for (const [key, ttl] of written) {
        expect({ key, hasTtl: ttl > 0 }).toEqual({ key, hasTtl: true });
        expect(ttl).toBeLessThanOrEqual(horizonMs(algorithm, DAY_MS) + BLOCK_MS + 1000);
      }
    });
  });

  it('leaves no key without a TTL anywhere in the keyspace', async () => {
    const all = await keysWithTtl(raw);
    expect(all.size).toBeGreaterThan(0);
    const withoutTtl = [...all].filter(([, ttl]) => ttl <= 0).map(([key]) => key);
    expect(withoutTtl).toEqual([]);
  });
});
