import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ModuleMetadata, type Type } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimit, RateLimitConfigError, RateLimitModule, type RateLimitModuleOptions, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, routeWith, sequential, startupError } from '../support/http-suite.js';

/**
 * `lease` over HTTP: a locally admitted request gets the headers it would get from Redis, a
 * route is answered locally only when all its policies are leased, and a lease that cannot go
 * with another option is a start-up error naming both.
 */

@Controller('lease')
class LeaseController {
  @Get('window')
  @RateLimit({ limit: 6, window: '1h', lease: 4 })
  window() {
    return { ok: true };
  }

  @Get('bucket')
  @RateLimit({ algorithm: 'gcra', limit: 6, window: '1h', lease: 4 })
  bucket() {
    return { ok: true };
  }

  @Get('both')
  @RateLimit([
    { name: 'a', limit: 100, window: '1h', lease: 10 },
    { name: 'b', algorithm: 'token-bucket', limit: 100, window: '1h', lease: 10 },
  ])
  both() {
    return { ok: true };
  }

  @Get('mixed')
  @RateLimit([
    { name: 'a', limit: 100, window: '1h', lease: 10 },
    { name: 'b', algorithm: 'sliding-log', limit: 100, window: '1h' },
  ])
  mixed() {
    return { ok: true };
  }
}

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await RedisServer.start();
  client = redis.client();
});
afterAll(async () => {
  client.disconnect();
  await redis.destroy();
});

/** Script calls Redis has run so far (INFO commandstats). */
async function scriptCalls(): Promise<number> {
  const info = await client.info('commandstats');
  let calls = 0;
  for (const [, n] of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(n);
  return calls;
}

describe.each(ADAPTERS)('leases on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `lease-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [LeaseController],
    });
  });
  afterAll(() => app.close());

  it.each(['window', 'bucket'])('a lone client counts down the headers as without a lease, to a 429 (%s)', async (route) => {
    const results = await sequential(`${app.url}/lease/${route}`, 7, { 'x-client': `countdown-${route}` });
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 429]);
    expect(results.slice(0, 6).map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['5', '4', '3', '2', '1', '0']);
    for (const r of results.slice(0, 6)) expect(r.headers['x-ratelimit-limit']).toBe('6');
    // The reset of a window (or of a bucket that refills 6 an hour) is within the hour.
    for (const r of results) expect(Number(r.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(3600);
    expect(Number(results[6].headers['retry-after'])).toBeGreaterThan(0);
  });

  it('a route whose policies are all leased is answered locally between refills', async () => {
    const before = await scriptCalls();
    const results = await sequential(`${app.url}/lease/both`, 20, { 'x-client': 'both' });
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results[19].headers['x-ratelimit-remaining']).toBe('80');
    // Two refills of 10 units for 20 requests.
    expect((await scriptCalls()) - before).toBe(2);
  });

  it('a route with a policy that is not leased goes to Redis for every request', async () => {
    const before = await scriptCalls();
    const results = await sequential(`${app.url}/lease/mixed`, 5, { 'x-client': 'mixed' });
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await scriptCalls()) - before).toBe(5);
    // Without leases on its route, the leased policy charges each request's cost alone.
    expect(results[4].headers['x-ratelimit-remaining']).toBe('95');
  });

  it('a denied client stays denied (deny cache), without taking leased units', async () => {
    const headers = { 'x-client': 'denied' };
    await sequential(`${app.url}/lease/window`, 6, headers);
    const before = await scriptCalls();
    const denials = await sequential(`${app.url}/lease/window`, 3, headers);
    expect(denials.map((r) => r.status)).toEqual([429, 429, 429]);
    // The first denial went to Redis; the deny cache answered the others.
    expect((await scriptCalls()) - before).toBe(1);
    expect((await get(`${app.url}/lease/window`, { 'x-client': 'other' })).status).toBe(200);
  });
});

const invalid = (policy: Record<string, unknown>) => policy as unknown as RateLimitPolicy;

/** [test name, policy, what the message must name besides `lease`] */
const BAD_LEASES: Array<[string, RateLimitPolicy, string]> = [
  ['lease 1', { limit: 10, window: '1m', lease: 1 }, 'integer >= 2'],
  ['lease 0', { limit: 10, window: '1m', lease: 0 }, 'integer >= 2'],
  ['a fractional lease', { limit: 10, window: '1m', lease: 2.5 }, 'integer >= 2'],
  ['a lease string', invalid({ limit: 10, window: '1m', lease: '5' }), 'integer >= 2'],
  ['lease on sliding-window', { algorithm: 'sliding-window', limit: 10, window: '1m', lease: 5 }, 'sliding-window'],
  ['lease on sliding-log', { algorithm: 'sliding-log', limit: 10, window: '1m', lease: 5 }, 'sliding-log'],
  ['lease on concurrency', { algorithm: 'concurrency', limit: 10, window: '1m', lease: 5 }, 'concurrency'],
  ['lease with blockFor', { limit: 10, window: '1m', lease: 5, blockFor: '1m' }, 'blockFor'],
  ['lease with settle', { limit: 10, window: '1m', lease: 5, settle: () => 1 }, 'settle'],
  ['lease with refund', { algorithm: 'gcra', limit: 10, window: '1m', lease: 5, refund: 'on-success' }, 'refund'],
  ['lease in shadow mode', { algorithm: 'token-bucket', limit: 10, window: '1m', lease: 5, mode: 'shadow' }, 'shadow'],
];

describe('lease start-up errors', () => {
  const withModule = (controllers: Type[], options: Partial<RateLimitModuleOptions> = {}): ModuleMetadata => ({
    imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: 'lease-err', ...options })],
    controllers,
  });

  async function expectConfigError(metadata: ModuleMetadata, ...mentions: string[]) {
    const error = await startupError('express', metadata);
    expect(error).toBeInstanceOf(RateLimitConfigError);
    for (const mention of mentions) expect((error as Error).message).toContain(mention);
  }

  it.each(BAD_LEASES)('%s is refused, naming lease, the conflict and Controller.handler', async (_name, policy, conflict) => {
    await expectConfigError(withModule([routeWith(policy)]), 'lease', conflict, 'BadController.handler');
  });

  it("a lease under the module's mode 'shadow' is refused", async () => {
    await expectConfigError(withModule([routeWith({ limit: 10, window: '1m', lease: 5 })], { mode: 'shadow' }), 'lease', 'shadow', 'BadController.handler');
  });

  it('a module-wide default lease on a sliding-log policy is refused', async () => {
    await expectConfigError(
      withModule([routeWith({ algorithm: 'sliding-log', limit: 10, window: '1m' })], { defaults: { lease: 5 } }),
      'lease',
      'sliding-log',
      'BadController.handler',
    );
  });

  it('a valid lease starts', async () => {
    expect(await startupError('express', withModule([routeWith({ algorithm: 'gcra', limit: 10, window: '1m', lease: 5 })]))).toBeUndefined();
  });
});
