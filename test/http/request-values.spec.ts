import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { RateLimit, RateLimitModule, type FailMode } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type HttpResult, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get } from '../support/http-suite.js';

/**
 * A `limit`, `cost` or `tracker` function that throws or returns garbage at request time is not
 * a 500 with internals: the request follows failMode (open: 200; closed: 503 + Retry-After),
 * and the response says nothing of the error.
 */

const SECRET = 'SECRET-internal-detail';
const boom = (): never => {
  throw new Error(`${SECRET}: lookup failed at db.query (/srv/app/tiers.ts:42)`);
};

/** What a policy function returns (or does) for `/bad/:field/:kind`; any other field gets a good value. */
const BAD: Record<'limit' | 'cost' | 'tracker', Record<string, () => unknown>> = {
  limit: { throws: boom, rejects: async () => boom(), string: () => 'lots', zero: () => 0, fraction: () => 2.5, nan: () => NaN, undefined: () => undefined },
  cost: { throws: boom, rejects: async () => boom(), negative: () => -1, fraction: () => 1.5, nan: () => NaN, string: () => '2', undefined: () => undefined },
  tracker: { throws: boom, rejects: async () => boom(), number: () => 42, empty: () => '', object: () => ({ toString: boom }), null: () => null },
};
const CASES = Object.entries(BAD).flatMap(([field, kinds]) => Object.keys(kinds).map((kind) => `${field}/${kind}`));

const params = (context: ExecutionContext) => context.switchToHttp().getRequest<{ params: { field: string; kind: string } }>().params;
const valueOf = (field: keyof typeof BAD, good: unknown) => (context: ExecutionContext) => {
  const { field: bad, kind } = params(context);
  return (bad === field ? BAD[field][kind]() : good) as never;
};

@Controller()
class BadValuesController {
  @Get('bad/:field/:kind')
  @RateLimit({ limit: valueOf('limit', 5), cost: valueOf('cost', 1), tracker: valueOf('tracker', undefined), window: '1h' })
  bad() {
    return { ok: true };
  }

  @Get('good')
  @RateLimit({ limit: 2, window: '1h' })
  good() {
    return { ok: true };
  }
}

@Controller('override')
class PolicyFailModeController {
  @Get('closed')
  @RateLimit({ limit: boom, window: '1h', failMode: 'closed' })
  closed() {
    return { ok: true };
  }
}

const LEAKS = /SECRET|db\.query|tiers\.ts|stack|Error:|\bat\s+\S+\s+\(/i;
const expectNoInternals = (res: HttpResult) => {
  expect(typeof res.body === 'string' ? res.body : JSON.stringify(res.body)).not.toMatch(LEAKS);
};

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('bad values from policy functions at request time on %s', (adapter) => {
  const apps = new Map<FailMode, TestApp>();
  beforeAll(async () => {
    for (const failMode of ['open', 'closed'] as FailMode[]) {
      apps.set(
        failMode,
        await startApp(adapter, {
          imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `bad-${adapter}-${failMode}`, tracker: clientHeaderTracker, failMode, timeout: DECISION_TIMEOUT })],
          controllers: [BadValuesController, PolicyFailModeController],
        }),
      );
    }
  });
  afterAll(() => Promise.all([...apps.values()].map((app) => app.close())));

  it.each(CASES)("%s with failMode 'open': 200", async (path) => {
    const res = await get(`${apps.get('open')!.url}/bad/${path}`, { 'x-client': 'open' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it.each(CASES)("%s with failMode 'closed': 503 with Retry-After, nothing leaked", async (path) => {
    const res = await get(`${apps.get('closed')!.url}/bad/${path}`, { 'x-client': 'closed' });
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((res.body as { statusCode: number }).statusCode).toBe(503);
    expectNoInternals(res);
  });

  it("a policy's own failMode: 'closed' overrides the module's 'open'", async () => {
    const res = await get(`${apps.get('open')!.url}/override/closed`, { 'x-client': 'override' });
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expectNoInternals(res);
  });

  it('bad values fail only their own requests: good requests are still decided through Redis', async () => {
    const app = apps.get('closed')!;
    for (const path of CASES) expect((await get(`${app.url}/bad/${path}`, { 'x-client': 'next' })).status).toBe(503);
    const good = await get(`${app.url}/good`, { 'x-client': 'next' });
    expect(good.status).toBe(200);
    expect(good.headers['x-ratelimit-remaining']).toBe('1');
    expect((await get(`${app.url}/good`, { 'x-client': 'next' })).status).toBe(200);
    expect((await get(`${app.url}/good`, { 'x-client': 'next' })).status).toBe(429);
  });
});
