import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { RateLimit, RateLimitGuard, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, header, rateLimitHeaders, sequential } from '../support/http-suite.js';

/**
 * Guard placement: `globalGuard: false` with `@UseGuards(RateLimitGuard)` (headers on 200 come
 * written by the guard), the per-user pattern `@UseGuards(AuthGuard, RateLimitGuard)`,
 * and a guard bound by hand on top of the global one, which must not charge twice.
 */

/** Stands in for an authentication guard: the user id comes from a header. */
@Injectable()
class FakeAuthGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ user?: { id: string } }>();
    const id = header(context, 'x-user');
    if (id) req.user = { id };
    return Boolean(id);
  }
}

const userTracker = (context: ExecutionContext) => context.switchToHttp().getRequest<{ user?: { id: string } }>().user?.id;

@Controller('by-hand')
class HandBoundController {
  @Get('handler')
  @UseGuards(RateLimitGuard)
  @RateLimit({ limit: 2, window: '1d' })
  handler() {
    return { ok: true };
  }

  @Get('per-user')
  @UseGuards(FakeAuthGuard, RateLimitGuard)
  @RateLimit({ limit: 2, window: '1d', tracker: userTracker })
  perUser() {
    return { ok: true };
  }

  @Get('free')
  free() {
    return { ok: true };
  }
}

@Controller('by-hand-class')
@UseGuards(RateLimitGuard)
class HandBoundClassController {
  @Get()
  @RateLimit({ limit: 1, window: '1d' })
  handler() {
    return { ok: true };
  }
}

@Controller('twice')
class TwiceGuardedController {
  @Get()
  @UseGuards(RateLimitGuard)
  @RateLimit({ limit: 3, window: '1d' })
  handler() {
    return { ok: true };
  }

  @Get('free')
  free() {
    return { ok: true };
  }
}

/** The context Nest gives the guards of one call of a route handler. */
function routeContext(handler: () => unknown, client: string): ExecutionContextHost {
  const context = new ExecutionContextHost([{ headers: { 'x-client': client } }, undefined, undefined], TwiceGuardedController, handler);
  context.setType('http');
  return context;
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('globalGuard: false with @UseGuards(RateLimitGuard) on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `gb-${adapter}`, tracker: clientHeaderTracker, globalGuard: false, timeout: DECISION_TIMEOUT })],
      controllers: [HandBoundController, HandBoundClassController],
    });
  });
  afterAll(() => app.close());

  it('limits a handler guarded by hand, with rate-limit headers on the 200s', async () => {
    const results = await sequential(`${app.url}/by-hand/handler`, 3, { 'x-client': 'hand' });
    expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(results.slice(0, 2).map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['1', '0']);
    expect(results[0].headers['x-ratelimit-limit']).toBe('2');
    expect(results[2].headers['retry-after']).toMatch(/^[1-9]\d*$/);
  });

  it('limits a handler of a controller guarded by hand', async () => {
    const results = await sequential(`${app.url}/by-hand-class`, 2, { 'x-client': 'hand-class' });
    expect(results.map((r) => r.status)).toEqual([200, 429]);
    expect(results[0].headers['x-ratelimit-remaining']).toBe('0');
  });

  it('after an auth guard, a per-user tracker sees req.user', async () => {
    const alice = await sequential(`${app.url}/by-hand/per-user`, 3, { 'x-user': 'alice', 'x-client': 'shared-ip' });
    expect(alice.map((r) => r.status)).toEqual([200, 200, 429]);
    const bob = await sequential(`${app.url}/by-hand/per-user`, 1, { 'x-user': 'bob', 'x-client': 'shared-ip' });
    expect(bob.map((r) => r.status)).toEqual([200]);
  });

  it('leaves routes with no policies alone', async () => {
    const results = await sequential(`${app.url}/by-hand/free`, 3, { 'x-client': 'free' });
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(rateLimitHeaders(results[0].headers)).toEqual({});
  });
});

describe.each(ADAPTERS)('globalGuard: true plus @UseGuards(RateLimitGuard) on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `gb2-${adapter}`, tracker: clientHeaderTracker, globalGuard: true, timeout: DECISION_TIMEOUT })],
      controllers: [TwiceGuardedController],
    });
  });
  afterAll(() => app.close());

  it('answers a plain true (no promise) on a route without policies, and to a second guard of the same call', async () => {
    const guard = app.app.get(RateLimitGuard);
    expect(guard.canActivate(routeContext(TwiceGuardedController.prototype.free, 'direct'))).toBe(true);
    const call = routeContext(TwiceGuardedController.prototype.handler, 'direct');
    const first = guard.canActivate(call);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    expect(guard.canActivate(call)).toBe(true);
    // The call was charged once: two of the three units are left.
    const results = await sequential(`${app.url}/twice`, 3, { 'x-client': 'direct' });
    expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
  });

  it('charges a request once, not once per guard', async () => {
    const results = await sequential(`${app.url}/twice`, 4, { 'x-client': 'twice' });
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(results.slice(0, 3).map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0']);
  });
});
