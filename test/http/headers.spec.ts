import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimitModule, type HeaderStyle } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type HttpResult, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, rateLimitHeaders } from '../support/http-suite.js';

/**
 * `headers: 'legacy' | 'ietf' | 'both' | 'none'`: exact names and formats, on admitted and on
 * denied responses, the same on Express and Fastify. Fixed windows open at the first admitted
 * request, so a fresh client's first answer has an exact reset of one whole window.
 */

@Controller('headers')
class HeadersController {
  @Get('minute')
  @RateLimit({ algorithm: 'fixed-window', limit: 100, window: '1m' })
  minute() {
    return { ok: true };
  }

  @Get('once')
  @RateLimit({ algorithm: 'fixed-window', limit: 1, window: '1h' })
  once() {
    return { ok: true };
  }

  @Get('sub-second')
  @RateLimit({ algorithm: 'fixed-window', limit: 100, window: '500ms' })
  subSecond() {
    return { ok: true };
  }

  @Get('unlimited')
  unlimited() {
    return { ok: true };
  }
}

const STYLES: HeaderStyle[] = ['legacy', 'ietf', 'both', 'none'];

const LEGACY_NAMES = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
const IETF_NAMES = ['ratelimit', 'ratelimit-policy'];
const namesOf = (style: HeaderStyle) =>
  [...(style === 'legacy' || style === 'both' ? LEGACY_NAMES : []), ...(style === 'ietf' || style === 'both' ? IETF_NAMES : [])].sort();
const rateLimitHeaderNames = (res: HttpResult) => Object.keys(rateLimitHeaders(res.headers)).filter((name) => name !== 'retry-after').sort();

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

const moduleFor = (style: HeaderStyle, keyPrefix: string) => ({
  imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix, tracker: clientHeaderTracker, headers: style, timeout: DECISION_TIMEOUT })],
  controllers: [HeadersController],
});

describe.each(ADAPTERS)('rate-limit headers on %s', (adapter) => {
  const apps = new Map<HeaderStyle, TestApp>();
  beforeAll(async () => {
    for (const style of STYLES) apps.set(style, await startApp(adapter, moduleFor(style, `h-${adapter}-${style}`)));
  });
  afterAll(() => Promise.all([...apps.values()].map((app) => app.close())));

  describe.each(STYLES)("headers: '%s'", (style) => {
    const url = (path: string) => `${apps.get(style)!.url}/headers/${path}`;

    it('writes exactly its header set on an admitted response, and on a denied one plus Retry-After', async () => {
      const client = { 'x-client': 'sets' };
      const allowed = await get(url('once'), client);
      const denied = await get(url('once'), client);
      expect([allowed.status, denied.status]).toEqual([200, 429]);
      expect(rateLimitHeaderNames(allowed)).toEqual(namesOf(style));
      expect(allowed.headers['retry-after']).toBeUndefined();
      expect(rateLimitHeaderNames(denied)).toEqual(namesOf(style));
      expect(denied.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(denied.body).toEqual({ statusCode: 429, message: expect.any(String), policy: 'default', retryAfter: Number(denied.headers['retry-after']) });
    });

    it('writes no rate-limit headers on a route without policies', async () => {
      const res = await get(url('unlimited'));
      expect(res.status).toBe(200);
      expect(rateLimitHeaders(res.headers)).toEqual({});
    });

    if (style === 'legacy' || style === 'both') {
      it('X-RateLimit-Limit / -Remaining / -Reset are the limit, the units left and ceil(resetMs / 1000) in delta seconds', async () => {
        const res = await get(url('minute'), { 'x-client': 'legacy-allowed' });
        expect(res.headers['x-ratelimit-limit']).toBe('100');
        expect(res.headers['x-ratelimit-remaining']).toBe('99');
        expect(res.headers['x-ratelimit-reset']).toBe('60');
        const second = await get(url('minute'), { 'x-client': 'legacy-allowed' });
        expect(second.headers['x-ratelimit-remaining']).toBe('98');
        expect(Number(second.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(1);
        expect(Number(second.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(60);
      });

      it('X-RateLimit-* on a 429 describe the denying policy: remaining 0, reset = Retry-After for a fixed window', async () => {
        await get(url('once'), { 'x-client': 'legacy-denied' });
        const denied = await get(url('once'), { 'x-client': 'legacy-denied' });
        expect(denied.status).toBe(429);
        expect(denied.headers['x-ratelimit-limit']).toBe('1');
        expect(denied.headers['x-ratelimit-remaining']).toBe('0');
        expect(denied.headers['x-ratelimit-reset']).toBe(denied.headers['retry-after']);
      });
    }

    if (style === 'ietf' || style === 'both') {
      it('RateLimit-Policy is "default";q=100;w=60 and RateLimit is "default";r=<remaining>;t=<reset seconds>', async () => {
        const res = await get(url('minute'), { 'x-client': 'ietf-allowed' });
        expect(res.headers['ratelimit-policy']).toBe('"default";q=100;w=60');
        expect(res.headers.ratelimit).toBe('"default";r=99;t=60');
        const second = await get(url('minute'), { 'x-client': 'ietf-allowed' });
        expect(second.headers.ratelimit).toMatch(/^"default";r=98;t=([1-9]|[1-5]\d|60)$/);
      });

      it('omits w for a sub-second window', async () => {
        const res = await get(url('sub-second'), { 'x-client': 'ietf-sub-second' });
        expect(res.status).toBe(200);
        expect(res.headers['ratelimit-policy']).toBe('"default";q=100');
        expect(res.headers.ratelimit).toMatch(/^"default";r=\d+;t=1$/);
      });

      it('on a 429, t of the denying policy is its Retry-After', async () => {
        await get(url('once'), { 'x-client': 'ietf-denied' });
        const denied = await get(url('once'), { 'x-client': 'ietf-denied' });
        expect(denied.status).toBe(429);
        expect(denied.headers['ratelimit-policy']).toBe('"default";q=1;w=3600');
        expect(denied.headers.ratelimit).toBe(`"default";r=0;t=${denied.headers['retry-after']}`);
      });
    }
  });
});

describe('rate-limit headers are identical on Express and Fastify', () => {
  const apps: TestApp[] = [];
  beforeAll(async () => {
    for (const adapter of ADAPTERS) apps.push(await startApp(adapter, moduleFor('both', `h-same-${adapter}`)));
  });
  afterAll(() => Promise.all(apps.map((app) => app.close())));

  // seconds may differ by one if a test stalls across a second boundary: compare them apart
  const shape = (res: HttpResult) =>
    Object.fromEntries(
      Object.entries(rateLimitHeaders(res.headers)).map(([name, value]) => [
        name,
        name === 'x-ratelimit-reset' || name === 'retry-after' ? '#' : value.replace(/t=\d+/g, 't=#'),
      ]),
    );

  it('writes the same names and values for the same sequence of requests', async () => {
    const sequences = await Promise.all(
      apps.map(async (app) => {
        const results: HttpResult[] = [];
        for (const path of ['minute', 'minute', 'once', 'once', 'sub-second', 'unlimited']) {
          results.push(await get(`${app.url}/headers/${path}`, { 'x-client': 'same' }));
        }
        return results;
      }),
    );
    const [express, fastify] = sequences;
    expect(express.map((r) => r.status)).toEqual([200, 200, 200, 429, 200, 200]);
    expect(fastify.map((r) => r.status)).toEqual(express.map((r) => r.status));
    expect(fastify.map(shape)).toEqual(express.map(shape));
    expect(fastify.map((r) => r.body)).toEqual(express.map((r) => r.body));
  });
});
