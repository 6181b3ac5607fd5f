import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { RateLimit, RateLimitModule, SkipRateLimit, type FailMode, type RateLimitEvent } from 'nestjs-redis-rate-limit';
import { CaptureLogger } from '../support/capture-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type HttpResult, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, get, header } from '../support/http-suite.js';

/**
 * The request-time functions of a policy (`tracker`, `limit`, `cost`) are the app's code, not
 * the store: whatever they do, they never fall into failMode and never admit a request the limit
 * did not decide. An `HttpException` passes through; anything else is Nest's standard 500.
 */

const SECRET = 'SECRET-internal-detail';
const boom = (): never => {
  throw new Error(`${SECRET}: lookup failed at db.query (/srv/app/tiers.ts:42)`);
};
const unauthorized = (): never => {
  throw new UnauthorizedException('API key required');
};

/** What a policy function returns (or does) for `/bad/:field/:kind`; any other field gets a good value. */
const BAD: Record<'limit' | 'cost' | 'tracker', Record<string, () => unknown>> = {
  limit: { throws: boom, rejects: async () => boom(), string: () => 'lots', zero: () => 0, fraction: () => 2.5, nan: () => NaN, undefined: () => undefined },
  cost: { throws: boom, rejects: async () => boom(), negative: () => -1, fraction: () => 1.5, nan: () => NaN, string: () => '2', undefined: () => undefined },
  tracker: { throws: boom, rejects: async () => boom(), number: () => 42, object: () => ({ toString: boom }), symbol: () => Symbol('x') },
};
const CASES = Object.entries(BAD).flatMap(([field, kinds]) => Object.keys(kinds).map((kind) => `${field}/${kind}`));

type Params = { field: string; kind: string };
const params = (context: ExecutionContext) => context.switchToHttp().getRequest<{ params: Params }>().params;
const valueOf = (field: keyof typeof BAD, good: unknown) => (context: ExecutionContext) => {
  const { field: bad, kind } = params(context);
  return (bad === field ? BAD[field][kind]() : good) as never;
};
const fieldThrows401 = (field: string, good: unknown) => (context: ExecutionContext) =>
  (params(context).field === field ? unauthorized() : good) as never;

@Controller()
class UserFunctionsController {
  @Get('bad/:field/:kind')
  @RateLimit({ limit: valueOf('limit', 5), cost: valueOf('cost', 1), tracker: valueOf('tracker', 'someone'), window: '1h' })
  bad() {
    return { ok: true };
  }

  @Get('unauthorized/:field')
  @RateLimit({ limit: fieldThrows401('limit', 5), cost: fieldThrows401('cost', 1), tracker: fieldThrows401('tracker', 'someone'), window: '1h' })
  unauthorized() {
    return { ok: true };
  }

  /** The tracker is the `x-key` header, `''` when it is sent empty. */
  @Get('empty-tracker')
  @RateLimit({ limit: 2, window: '1h', tracker: (context) => header(context, 'x-key') ?? 'absent' })
  emptyTracker() {
    return { ok: true };
  }

  /** No tracker of its own: the module's tracker (the `x-user` header), else the client IP. */
  @Get('by-user')
  @RateLimit({ limit: 2, window: '1h', tracker: () => undefined })
  byUser() {
    return { ok: true };
  }

  @Get('good')
  @RateLimit({ limit: 2, window: '1h' })
  good() {
    return { ok: true };
  }

  @Get('skipped')
  @RateLimit({ limit: 1, window: '1h' })
  @SkipRateLimit()
  skipped() {
    return { ok: true };
  }
}

const LEAKS = /SECRET|db\.query|tiers\.ts|stack|Error:|\bat\s+\S+\s+\(/i;
const expectInternalError = (res: HttpResult) => {
  expect(res.status).toBe(500);
  expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
  expect(res.headers['retry-after']).toBeUndefined();
  expect(JSON.stringify(res.body)).not.toMatch(LEAKS);
};

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('request-time functions on %s', (adapter) => {
  const apps = new Map<FailMode, TestApp>();
  const events: RateLimitEvent[] = [];
  const logger = new CaptureLogger();
  beforeAll(async () => {
    for (const failMode of ['open', 'closed'] as FailMode[]) {
      const app = await startApp(adapter, {
        imports: [
          RateLimitModule.forRoot({
            redis: redis.url,
            keyPrefix: `uf-${adapter}-${failMode}`,
            tracker: (context) => header(context, 'x-user'),
            failMode,
            timeout: DECISION_TIMEOUT,
            onDecision: (event) => events.push(event),
          }),
        ],
        controllers: [UserFunctionsController],
      });
      app.app.useLogger(logger);
      apps.set(failMode, app);
    }
  });
  afterAll(() => Promise.all([...apps.values()].map((app) => app.close())));
  const url = (failMode: FailMode, path: string) => `${apps.get(failMode)!.url}${path}`;

  // First: the log is checked from the first failure of the app on.
  it("is reported as outcome 'error' and logged once per burst, naming the policy and the handler", async () => {
    logger.clear();
    events.length = 0;
    for (let i = 0; i < 5; i++) expectInternalError(await get(url('open', '/bad/tracker/throws')));
    expect(events.map((e) => e.outcome)).toEqual(Array(5).fill('error'));
    // The first failure of this app: logged at once, the rest of the burst only counted.
    const logged = logger.rateLimit('error');
    expect(logged).toHaveLength(1);
    expect(logged[0].message).toMatch(/policy "default" on UserFunctionsController\.bad: tracker threw/);
    expect(logged[0].message).not.toMatch(/store unavailable|failing open/);
  });

  it.each(CASES)('%s: 500 with Nest\'s standard body under every failMode, every time, nothing leaked', async (path) => {
    for (const failMode of ['open', 'closed'] as FailMode[]) {
      for (let i = 0; i < 3; i++) expectInternalError(await get(url(failMode, `/bad/${path}`)));
    }
  });

  it.each(['tracker', 'limit', 'cost'])('an UnauthorizedException from %s passes through as a 401', async (field) => {
    const res = await get(url('open', `/unauthorized/${field}`));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, message: 'API key required' });
  });

  it("'' is a tracker value with its own budget: 200, 200, 429", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(url('open', '/empty-tracker'), { 'x-key': '' })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await get(url('open', '/empty-tracker'), { 'x-key': 'other' })).status).toBe(200);
  });

  it("a module tracker that gives undefined limits by client IP", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(url('closed', '/by-user'))).status);
    expect(statuses).toEqual([200, 200, 429]);
    // A named user has a budget of its own.
    expect((await get(url('closed', '/by-user'), { 'x-user': 'ada' })).status).toBe(200);
  });

  it('@SkipRateLimit() and @RateLimit on one handler: unlimited, no headers', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await get(url('open', '/skipped'));
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('bad values fail only their own requests: good ones are still decided through Redis', async () => {
    for (const path of CASES) expectInternalError(await get(url('closed', `/bad/${path}`), { 'x-user': 'next' }));
    const good = await get(url('closed', '/good'), { 'x-user': 'next' });
    expect(good.status).toBe(200);
    expect(good.headers['x-ratelimit-remaining']).toBe('1');
    expect((await get(url('closed', '/good'), { 'x-user': 'next' })).status).toBe(200);
    expect((await get(url('closed', '/good'), { 'x-user': 'next' })).status).toBe(429);
  });
});
