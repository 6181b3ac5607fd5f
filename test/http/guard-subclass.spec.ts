import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpException, Injectable, UnauthorizedException, UseGuards, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimit, RateLimitGuard, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, get, header } from '../support/http-suite.js';

/** A subclass of the guard changes the tracker and the denial through its protected hooks, as users of @nestjs/throttler do. */

/** Limits by API key; a request without one is refused with a 401, never admitted. */
@Injectable()
class ApiKeyRateLimitGuard extends RateLimitGuard {
  protected override getTracker(context: ExecutionContext) {
    const key = header(context, 'x-api-key');
    if (!key) throw new UnauthorizedException('x-api-key is required');
    return `key:${key}`;
  }

  protected override async denialError(): Promise<Error> {
    return new HttpException({ statusCode: 429, message: 'Slow down, please' }, 429);
  }
}

@Controller('keyed')
class KeyedController {
  @Get()
  @RateLimit({ limit: 2, window: '1h' })
  keyed() {
    return { ok: true };
  }

  /** A policy's own tracker still wins over the guard's. */
  @Get('own')
  @RateLimit({ limit: 1, window: '1h', tracker: () => 'everyone' })
  own() {
    return { ok: true };
  }
}

@Controller('bound')
@UseGuards(ApiKeyRateLimitGuard)
class BoundController {
  @Get()
  @RateLimit({ limit: 1, window: '1h' })
  bound() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('a RateLimitGuard subclass on %s', (adapter) => {
  let appWide: TestApp;
  let bound: TestApp;
  beforeAll(async () => {
    const module = (keyPrefix: string) => RateLimitModule.forRoot({ redis: redis.url, keyPrefix, globalGuard: false, timeout: DECISION_TIMEOUT });
    appWide = await startApp(adapter, {
      imports: [module(`sub-${adapter}-app`)],
      controllers: [KeyedController],
      providers: [{ provide: APP_GUARD, useClass: ApiKeyRateLimitGuard }],
    });
    bound = await startApp(adapter, { imports: [module(`sub-${adapter}-bound`)], controllers: [BoundController] });
  });
  afterAll(async () => {
    await appWide.close();
    await bound.close();
  });

  it('registered as APP_GUARD: its tracker keys the budget, its error shapes the denial', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) statuses.push((await get(`${appWide.url}/keyed`, { 'x-api-key': 'a' })).status);
    const denied = await get(`${appWide.url}/keyed`, { 'x-api-key': 'a' });
    expect(statuses).toEqual([200, 200]);
    expect(denied.status).toBe(429);
    expect(denied.body).toEqual({ statusCode: 429, message: 'Slow down, please' });
    expect(denied.headers['retry-after']).toBeDefined();
    expect((await get(`${appWide.url}/keyed`, { 'x-api-key': 'b' })).status).toBe(200);
  });

  it('an HttpException from its tracker answers the request (no key: 401, every time)', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await get(`${appWide.url}/keyed`);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ message: 'x-api-key is required' });
    }
  });

  it("a policy's own tracker is used before the guard's", async () => {
    expect((await get(`${appWide.url}/keyed/own`, { 'x-api-key': 'c' })).status).toBe(200);
    expect((await get(`${appWide.url}/keyed/own`, { 'x-api-key': 'd' })).status).toBe(429);
  });

  it('bound with @UseGuards', async () => {
    expect((await get(`${bound.url}/bound`, { 'x-api-key': 'a' })).status).toBe(200);
    expect((await get(`${bound.url}/bound`, { 'x-api-key': 'a' })).status).toBe(429);
    expect((await get(`${bound.url}/bound`)).status).toBe(401);
  });
});
