import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Param, Post } from '@nestjs/common';
import { RateLimit, RateLimitModule, SkipRateLimit } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, request, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, header, rateLimitHeaders, sequential } from '../support/http-suite.js';

/**
 * @RateLimit / @SkipRateLimit resolution (module policies < class < handler, by name), module
 * `policies` and `defaults`, budgets (route template, `bucket`), trackers and tiers.
 * Windows are long: nothing refills while a test runs.
 */

@Controller('class')
@RateLimit({ limit: 2, window: '1d' })
class ClassLevelController {
  @Get('inherited')
  inherited() {
    return { ok: true };
  }

  @Get('overridden')
  @RateLimit({ limit: 5, window: '1d' })
  overridden() {
    return { ok: true };
  }

  @Get('added')
  @RateLimit({ name: 'extra', limit: 3, window: '1d' })
  added() {
    return { ok: true };
  }

  @Get('skipped')
  @SkipRateLimit()
  skipped() {
    return { ok: true };
  }
}

@Controller('named')
@RateLimit([
  { name: 'burst', limit: 1, window: '1d' },
  { name: 'sustained', limit: 3, window: '1d' },
])
class NamedSkipController {
  @Get('both')
  both() {
    return { ok: true };
  }

  @Get('skip-burst')
  @SkipRateLimit('burst')
  skipBurst() {
    return { ok: true };
  }
}

@Controller('skipped-class')
@SkipRateLimit()
class SkippedClassController {
  @Get('free')
  free() {
    return { ok: true };
  }

  @Get('limited')
  @RateLimit({ limit: 1, window: '1d' })
  limited() {
    return { ok: true };
  }
}

@Controller('budgets')
class BudgetController {
  @Get('shared-a')
  @RateLimit({ bucket: 'shared', limit: 3, window: '1d' })
  sharedA() {
    return { ok: true };
  }

  @Get('shared-b')
  @RateLimit({ bucket: 'shared', limit: 3, window: '1d' })
  sharedB() {
    return { ok: true };
  }

  @Get('own-a')
  @RateLimit({ limit: 1, window: '1d' })
  ownA() {
    return { ok: true };
  }

  @Get('own-b')
  @RateLimit({ limit: 1, window: '1d' })
  ownB() {
    return { ok: true };
  }

  @Get('items/:id')
  @RateLimit({ limit: 2, window: '1d' })
  item(@Param('id') id: string) {
    return { id };
  }

  @Post('items/:id')
  @RateLimit({ limit: 2, window: '1d' })
  updateItem(@Param('id') id: string) {
    return { id };
  }
}

@Controller('tracking')
class TrackingController {
  @Get('api-key')
  @RateLimit({ limit: 2, window: '1d', tracker: (context) => header(context, 'x-api-key') })
  apiKey() {
    return { ok: true };
  }

  @Get('tiers')
  @RateLimit({ limit: async (context) => (header(context, 'x-tier') === 'premium' ? 5 : 2), window: '1d' })
  tiers() {
    return { ok: true };
  }
}

@Controller('module')
class ModuleWideController {
  @Get('undecorated-a')
  undecoratedA() {
    return { ok: true };
  }

  @Get('undecorated-b')
  undecoratedB() {
    return { ok: true };
  }

  @Get('override')
  @RateLimit({ name: 'global', algorithm: 'fixed-window', limit: 5 })
  override() {
    return { ok: true };
  }

  @Get('added')
  @RateLimit({ name: 'route', limit: 2 })
  added() {
    return { ok: true };
  }

  @Get('skip-all')
  @SkipRateLimit()
  skipAll() {
    return { ok: true };
  }

  @Get('skip-global')
  @SkipRateLimit('global')
  skipGlobal() {
    return { ok: true };
  }
}

const statuses = async (url: string, count: number, headers: Record<string, string>) => (await sequential(url, count, headers)).map((r) => r.status);

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('decorators on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `dec-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [ClassLevelController, NamedSkipController, SkippedClassController, BudgetController, TrackingController],
    });
  });
  afterAll(() => app.close());

  const url = (path: string) => `${app.url}/${path}`;

  describe('class and handler metadata', () => {
    it('a class-level @RateLimit applies to handlers without their own', async () => {
      expect(await statuses(url('class/inherited'), 3, { 'x-client': 'inherited' })).toEqual([200, 200, 429]);
    });

    it('a handler @RateLimit overrides the class policy of the same name', async () => {
      const results = await sequential(url('class/overridden'), 6, { 'x-client': 'overridden' });
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
      expect(results[0].headers['x-ratelimit-limit']).toBe('5');
    });

    it('a handler @RateLimit with another name adds a limit to the class policy', async () => {
      // class "default" allows 2, handler "extra" allows 3: the stricter one decides
      const results = await sequential(url('class/added'), 3, { 'x-client': 'added' });
      expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
      expect((results[2].body as { policy: string }).policy).toBe('default');
    });

    it('@SkipRateLimit() on a handler skips every policy: no limit, no headers', async () => {
      const results = await sequential(url('class/skipped'), 4, { 'x-client': 'skipped' });
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(rateLimitHeaders(results[0].headers)).toEqual({});
    });

    it("@SkipRateLimit('burst') skips only the named policy", async () => {
      expect(await statuses(url('named/both'), 2, { 'x-client': 'named-both' })).toEqual([200, 429]);
      const results = await sequential(url('named/skip-burst'), 4, { 'x-client': 'named-skip' });
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect((results[3].body as { policy: string }).policy).toBe('sustained');
      expect(results[0].headers['x-ratelimit-limit']).toBe('3');
    });

    it('a handler @RateLimit overrides a class-level @SkipRateLimit()', async () => {
      expect(await statuses(url('skipped-class/free'), 3, { 'x-client': 'skipped-class' })).toEqual([200, 200, 200]);
      expect(await statuses(url('skipped-class/limited'), 2, { 'x-client': 'skipped-class' })).toEqual([200, 429]);
    });
  });

  describe('budgets', () => {
    it('each route has its own budget by default', async () => {
      const client = { 'x-client': 'own' };
      expect(await statuses(url('budgets/own-a'), 2, client)).toEqual([200, 429]);
      expect(await statuses(url('budgets/own-b'), 2, client)).toEqual([200, 429]);
    });

    it('the default budget is the route template (method + path), not the concrete URL', async () => {
      const client = { 'x-client': 'template' };
      expect((await get(url('budgets/items/1'), client)).status).toBe(200);
      expect((await get(url('budgets/items/2'), client)).status).toBe(200);
      expect((await get(url('budgets/items/3'), client)).status).toBe(429);
      // another method on the same path is another route
      expect((await request(url('budgets/items/1'), { method: 'POST', headers: client })).status).toBe(201);
    });

    it('a `bucket` shares one budget across the routes that name it', async () => {
      const client = { 'x-client': 'bucket' };
      const order = ['shared-a', 'shared-b', 'shared-a', 'shared-b', 'shared-a'];
      const results = [];
      for (const path of order) results.push((await get(url(`budgets/${path}`), client)).status);
      expect(results).toEqual([200, 200, 200, 429, 429]);
    });
  });

  describe('trackers and tiers', () => {
    it('a per-policy tracker (an API-key header) keys the budget, whatever the module tracker says', async () => {
      expect((await get(url('tracking/api-key'), { 'x-api-key': 'key-1', 'x-client': 'a' })).status).toBe(200);
      expect((await get(url('tracking/api-key'), { 'x-api-key': 'key-1', 'x-client': 'b' })).status).toBe(200);
      expect((await get(url('tracking/api-key'), { 'x-api-key': 'key-1', 'x-client': 'c' })).status).toBe(429);
      expect((await get(url('tracking/api-key'), { 'x-api-key': 'key-2', 'x-client': 'a' })).status).toBe(200);
    });

    it("a per-policy tracker returning undefined falls back to the module's tracker", async () => {
      expect(await statuses(url('tracking/api-key'), 3, { 'x-client': 'no-key-1' })).toEqual([200, 200, 429]);
      expect((await get(url('tracking/api-key'), { 'x-client': 'no-key-2' })).status).toBe(200);
    });

    it('the module tracker keys the budget of every policy without its own', async () => {
      expect(await statuses(url('class/inherited'), 3, { 'x-client': 'module-tracker-1' })).toEqual([200, 200, 429]);
      expect(await statuses(url('class/inherited'), 1, { 'x-client': 'module-tracker-2' })).toEqual([200]);
    });

    it('`limit` as a function gives tiers: x-tier: premium gets a higher limit', async () => {
      const premium = await sequential(url('tracking/tiers'), 6, { 'x-client': 'premium-user', 'x-tier': 'premium' });
      expect(premium.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
      expect(premium[0].headers['x-ratelimit-limit']).toBe('5');
      const basic = await sequential(url('tracking/tiers'), 3, { 'x-client': 'basic-user' });
      expect(basic.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(basic[0].headers['x-ratelimit-limit']).toBe('2');
    });
  });
});

describe.each(ADAPTERS)('module-wide policies and defaults on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({
          redis: redis.url,
          keyPrefix: `mod-${adapter}`,
          tracker: clientHeaderTracker,
          defaults: { algorithm: 'gcra', window: '1h' },
          policies: [{ name: 'global', limit: 3 }],
          timeout: DECISION_TIMEOUT,
        }),
      ],
      controllers: [ModuleWideController],
    });
  });
  afterAll(() => app.close());

  const url = (path: string) => `${app.url}/module/${path}`;

  it('module-wide `policies` limit undecorated routes, each route with its own budget', async () => {
    const client = { 'x-client': 'undecorated' };
    const results = await sequential(url('undecorated-a'), 4, client);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect((results[3].body as { policy: string }).policy).toBe('global');
    expect(await statuses(url('undecorated-b'), 1, client)).toEqual([200]);
  });

  it('`defaults` are merged under module policies (gcra, 1 h: a reset of one emission interval)', async () => {
    const res = await get(url('undecorated-a'), { 'x-client': 'defaults-module' });
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-reset']).toBe('1200');
  });

  it('`defaults` are merged under decorator policies, whose own fields win', async () => {
    // "route" (limit 2, gcra and 1 h from defaults) next to the module's "global" (limit 3)
    const added = await sequential(url('added'), 3, { 'x-client': 'defaults-route' });
    expect(added.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(added[0].headers['x-ratelimit-limit']).toBe('2');
    expect(added[0].headers['x-ratelimit-reset']).toBe('1800');
    expect((added[2].body as { policy: string }).policy).toBe('route');
    // "global" overridden on the handler: fixed-window, limit 5, window 1 h from defaults
    const overridden = await sequential(url('override'), 6, { 'x-client': 'defaults-override' });
    expect(overridden.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(overridden[0].headers['x-ratelimit-limit']).toBe('5');
    expect(overridden[0].headers['x-ratelimit-reset']).toBe('3600');
  });

  it('@SkipRateLimit() and @SkipRateLimit(name) skip module-wide policies', async () => {
    expect(await statuses(url('skip-all'), 5, { 'x-client': 'skip' })).toEqual([200, 200, 200, 200, 200]);
    const skipped = await sequential(url('skip-global'), 5, { 'x-client': 'skip' });
    expect(skipped.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(rateLimitHeaders(skipped[0].headers)).toEqual({});
  });
});
