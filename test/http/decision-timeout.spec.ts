import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { get, header } from '../support/http-suite.js';

/**
 * `timeout` is "ms budget for one decision's Redis round trip". A busy event loop (other
 * requests' CPU work) while a decision is in flight must not turn a prompt Redis answer into a
 * timeout — with failMode 'open' that admits a client over its limit, and repeated, opens the
 * breaker and switches limiting off exactly under load.
 *
 * The tracker schedules 300 ms of synchronous work for right after the decision is sent
 * (setImmediate): Redis answers in well under 100 ms, but the answer can only be read after
 * the work is done, when the 100 ms timer has also expired.
 */

const busyFor = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // simulates CPU work of other requests on this instance
  }
};

const trackerThatBusiesTheLoop = (context: ExecutionContext) => {
  if (header(context, 'x-busy') === '1') setImmediate(() => busyFor(300));
  return header(context, 'x-client') ?? 'anonymous';
};

@Controller('busy')
class BusyController {
  @Get()
  @RateLimit({ limit: 1, window: '1h' })
  limited() {
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('decision timeout on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `busy-${adapter}`, tracker: trackerThatBusiesTheLoop, timeout: 100 })],
      controllers: [BusyController],
    });
  });
  afterAll(() => app.close());

  it('a decision Redis answered promptly is not failed open because the event loop was busy meanwhile', async () => {
    expect((await get(`${app.url}/busy`, { 'x-client': 'busy' })).status).toBe(200);
    const denied = await get(`${app.url}/busy`, { 'x-client': 'busy', 'x-busy': '1' });
    expect(denied.status).toBe(429);
  });
});
