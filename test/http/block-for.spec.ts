import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, sleep } from '../support/http-suite.js';

/**
 * `blockFor`: after a denial the key stays denied for blockFor, even once its budget has
 * refilled. A 1 s window with a 6 s block: only lower bounds of time are relied on, except that
 * the denial must come within the window of the first request, and the check "still blocked
 * after the window" within the block (almost 5 s of slack for a timer that fires late).
 */

@Controller('block')
class BlockController {
  @Get('gcra')
  @RateLimit({ algorithm: 'gcra', limit: 1, window: '1s', blockFor: '6s' })
  gcra() {
    return { ok: true };
  }

  @Get('fixed-window')
  @RateLimit({ algorithm: 'fixed-window', limit: 1, window: '1s', blockFor: '6s' })
  fixedWindow() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('blockFor on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `block-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [BlockController],
    });
  });
  afterAll(() => app.close());

  async function blockedThenReleased(algorithm: 'gcra' | 'fixed-window') {
    const url = `${app.url}/block/${algorithm}`;
    const client = { 'x-client': `blocked-${algorithm}` };
    expect((await get(url, client)).status).toBe(200);

    const denied = await get(url, client);
    expect(denied.status).toBe(429);
    const retryAfter = Number(denied.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(6);
    expect(denied.body).toEqual({ statusCode: 429, message: expect.any(String), policy: 'default', retryAfter });

    await sleep(1100); // the 1 s window has refilled the budget; the 6 s block has not ended
    const stillBlocked = await get(url, client);
    expect(stillBlocked.status).toBe(429);
    const rest = Number(stillBlocked.headers['retry-after']);
    expect(rest).toBeGreaterThanOrEqual(1);
    expect(rest).toBeLessThanOrEqual(retryAfter);

    await sleep(rest * 1000);
    expect((await get(url, client)).status).toBe(200);
  }

  it('after a denial, denies for blockFor even when the budget refills (Retry-After ≥ blockFor), then admits again', async () => {
    await Promise.all([blockedThenReleased('gcra'), blockedThenReleased('fixed-window')]);
  });
});
