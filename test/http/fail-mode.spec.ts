import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimitModule, type FailMode } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type HttpResult, type TestApp } from '../support/http-app.js';
import { clientHeaderTracker, get, sleep } from '../support/http-suite.js';

/**
 * failMode with Redis unreachable: 'open' admits, 'closed' answers 503 with Retry-After ≥ 1,
 * and no Redis error text reaches the client. Redis is frozen (SIGSTOP: decisions time out),
 * then killed (connection refused), then brought back (decisions resume). The decision timeout
 * is 500 ms: short enough for the frozen phase, long enough not to fire spuriously on a busy machine.
 */

@Controller('fm')
class FailModeController {
  @Get()
  @RateLimit({ limit: 1, window: '1h' })
  limited() {
    return { ok: true };
  }

  @Get('closed')
  @RateLimit({ limit: 100, window: '1h', failMode: 'closed' })
  closedPolicy() {
    return { ok: true };
  }
}

const REDIS_TEXT = /redis|ECONN|connection|stream|socket|timeout|timed out|closed|stack|Error:/i;
const expectNoRedisText = (res: HttpResult) => {
  const { message, ...rest } = res.body as { message?: string };
  expect(JSON.stringify(rest)).not.toMatch(REDIS_TEXT);
  expect(message ?? '').not.toMatch(/redis|ECONN|connection|stream|socket|timed out|stack|Error:/i);
};

describe.each(ADAPTERS)('failMode with Redis unreachable on %s', (adapter) => {
  let redis: RedisServer;
  const apps = new Map<FailMode, TestApp>();
  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const failMode of ['open', 'closed'] as FailMode[]) {
      apps.set(
        failMode,
        await startApp(adapter, {
          imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `fm-${failMode}`, tracker: clientHeaderTracker, failMode, timeout: 500 })],
          controllers: [FailModeController],
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([...apps.values()].map((app) => app.close()));
    await redis.destroy();
  });

  const url = (failMode: FailMode, path = '') => `${apps.get(failMode)!.url}/fm${path}`;

  it('decides through Redis while it is up', async () => {
    for (const failMode of ['open', 'closed'] as FailMode[]) {
      expect((await get(url(failMode), { 'x-client': 'up' })).status).toBe(200);
      expect((await get(url(failMode), { 'x-client': 'up' })).status).toBe(429);
    }
  });

  describe('Redis frozen (no answer within the timeout)', () => {
    beforeAll(() => redis.pause());
    afterAll(() => redis.resume());

    it("failMode 'open' admits", async () => {
      for (let i = 0; i < 3; i++) {
        const res = await get(url('open'), { 'x-client': 'frozen' });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ok: true });
      }
    });

    it("failMode 'closed' answers 503 with Retry-After ≥ 1 and no Redis error text", async () => {
      for (let i = 0; i < 3; i++) {
        const res = await get(url('closed'), { 'x-client': 'frozen' });
        expect(res.status).toBe(503);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expectNoRedisText(res);
      }
    });
  });

  describe('Redis stopped (connection refused)', () => {
    beforeAll(async () => {
      await redis.stop();
    });

    it("failMode 'open' admits", async () => {
      for (let i = 0; i < 3; i++) {
        const res = await get(url('open'), { 'x-client': 'stopped' });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ok: true });
      }
    });

    it("failMode 'closed' answers 503 with Retry-After ≥ 1 and no Redis error text", async () => {
      for (let i = 0; i < 3; i++) {
        const res = await get(url('closed'), { 'x-client': 'stopped' });
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
        expectNoRedisText(res);
      }
    });

    it("a policy's failMode: 'closed' wins over the module's 'open'", async () => {
      const res = await get(url('open', '/closed'), { 'x-client': 'stopped' });
      expect(res.status).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expectNoRedisText(res);
    });
  });

  describe('Redis back', () => {
    beforeAll(async () => {
      await redis.restart(); // a new, empty server on the same port
    });

    it('decisions go through Redis again once the client has reconnected', async () => {
      const deadline = Date.now() + 20_000;
      let statuses: number[] = [];
      while (Date.now() < deadline) {
        statuses = [(await get(url('closed'), { 'x-client': 'back' })).status];
        if (statuses[0] === 200) break;
        await sleep(250);
      }
      expect(statuses).toEqual([200]);
      expect((await get(url('closed'), { 'x-client': 'back' })).status).toBe(429);
    }, 30_000);
  });
});
