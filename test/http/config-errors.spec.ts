import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import {
  RateLimit,
  RateLimitConfigError,
  RateLimitModule,
  type RateLimitModuleOptions,
  type RateLimitPolicy,
} from 'nestjs-redis-rate-limit';
import { createClient, createClientPool } from 'redis';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS } from '../support/http-app.js';
import { routeWith, startupError } from '../support/http-suite.js';

/**
 * "Invalid options fail at start-up with an error naming the field and, for a decorator, the
 * Controller.handler — never at the first request." compile()/init() must reject with a
 * RateLimitConfigError.
 */

@Controller('bucket')
class BucketController {
  @Get('first')
  @RateLimit({ bucket: 'shared', limit: 2, window: '1h' })
  first() {
    return { ok: true };
  }

  @Get('second')
  @RateLimit({ bucket: 'shared', limit: 3, window: '1h' })
  second() {
    return { ok: true };
  }
}

@Controller('unguarded')
class UnguardedController {
  @Get()
  @RateLimit({ limit: 1, window: '1h' })
  handler() {
    return { ok: true };
  }
}

@Controller('undecorated')
class UndecoratedController {
  @Get()
  handler() {
    return { ok: true };
  }
}

const invalid = (policy: Record<string, unknown>) => policy as unknown as RateLimitPolicy;

/** [test name, policy, the field the message must name] */
const BAD_POLICIES: Array<[string, RateLimitPolicy | RateLimitPolicy[], string]> = [
  ['a negative limit', { limit: -1, window: '1m' }, 'limit'],
  ['a zero limit', { limit: 0, window: '1m' }, 'limit'],
  ['a NaN limit', { limit: NaN, window: '1m' }, 'limit'],
  ['a fractional limit', { limit: 1.5, window: '1m' }, 'limit'],
  ['a skipIf that is no function', { limit: 1, window: '1m', skipIf: true as never }, 'skipIf'],
  ["window '1x'", invalid({ limit: 1, window: '1x' }), 'window'],
  ['an unknown algorithm', invalid({ algorithm: 'leaky-bucket', limit: 1, window: '1m' }), 'algorithm'],
  ['burst 0', { algorithm: 'token-bucket', limit: 5, window: '1m', burst: 0 }, 'burst'],
  ['a negative cost', { limit: 5, window: '1m', cost: -1 }, 'cost'],
  ['two policies with one name on a route', [{ name: 'dup', limit: 1, window: '1m' }, { name: 'dup', limit: 2, window: '1h' }], 'dup'],
  ['an unknown policy field', invalid({ limit: 1, window: '1m', limt: 2 }), 'limt'],
  ["blockFor '1x'", invalid({ limit: 1, window: '1m', blockFor: '1x' }), 'blockFor'],
  ['an invalid name', { name: 'not a name!', limit: 1, window: '1m' }, 'name'],
  ['an invalid bucket', { bucket: 'no spaces allowed', limit: 1, window: '1m' }, 'bucket'],
  ['an unknown failMode', invalid({ limit: 1, window: '1m', failMode: 'sideways' }), 'failMode'],
  ['an unknown refund', invalid({ limit: 1, window: '1m', refund: 'always' }), 'refund'],
  ['concurrency with burst', { algorithm: 'concurrency', limit: 5, window: '1m', burst: 5 }, 'burst'],
  ['concurrency with blockFor', { algorithm: 'concurrency', limit: 5, window: '1m', blockFor: '1m' }, 'blockFor'],
  ['concurrency with refund', { algorithm: 'concurrency', limit: 5, window: '1m', refund: 'on-success' }, 'refund'],
  ['concurrency with cost 2', { algorithm: 'concurrency', limit: 5, window: '1m', cost: 2 }, 'cost'],
  ['concurrency with a cost function', { algorithm: 'concurrency', limit: 5, window: '1m', cost: () => 1 }, 'cost'],
];

/** [module option, invalid value] */
const BAD_OPTIONS: Array<[keyof RateLimitModuleOptions, unknown]> = [
  ['headers', 'fancy'],
  ['failMode', 'sideways'],
  ['mode', 'loud'],
  ['timeout', 0],
  ['ipv6Prefix', 200],
  ['tracker', 'ip'],
  ['store', 'disk'],
  ['skipIf', true],
  ['errorMessage', 429],
  ['enabled', 'no'],
];

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('start-up errors on %s', (adapter) => {
  const withModule = (controllers: Type[], options: Partial<RateLimitModuleOptions> & { globalGuard?: boolean } = {}): ModuleMetadata => ({
    imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `err-${adapter}`, ...options })],
    controllers,
  });

  async function expectConfigError(metadata: ModuleMetadata, ...mentions: string[]) {
    const error = await startupError(adapter, metadata);
    expect(error).toBeInstanceOf(RateLimitConfigError);
    const message = (error as Error).message;
    for (const mention of mentions) expect(message).toContain(mention);
    return message;
  }

  it.each(BAD_POLICIES)('%s is refused, naming the field and Controller.handler', async (_name, policy, field) => {
    await expectConfigError(withModule([routeWith(policy)]), field, 'BadController.handler');
  });

  it('a bucket reused with a different shape is refused, naming both handlers', async () => {
    await expectConfigError(withModule([BucketController]), 'shared', 'BucketController.first', 'BucketController.second');
  });

  it('an invalid module-wide policy is refused, naming the field', async () => {
    await expectConfigError(withModule([UndecoratedController], { policies: [{ limit: 0, window: '1m' }] }), 'policies', 'limit');
  });

  it('an invalid module-wide policy is refused even in an app with no routes', async () => {
    await expectConfigError(withModule([], { policies: [{ limit: 0, window: '1m' }] }), 'policies', 'limit');
  });

  it('an invalid policy made valid only by `defaults` is accepted, and bad `defaults` are refused', async () => {
    expect(await startupError(adapter, withModule([routeWith({ limit: 2 })], { defaults: { window: '1m' } }))).toBeUndefined();
    await expectConfigError(withModule([routeWith({ limit: 2 })], { defaults: invalid({ window: '1x' }) }), 'window', 'BadController.handler');
  });

  it('@RateLimit on a handler no RateLimitGuard reaches (globalGuard: false) is refused', async () => {
    await expectConfigError(withModule([UnguardedController], { globalGuard: false }), 'UnguardedController.handler', 'RateLimitGuard');
  });

  it.each([
    ['a node-redis client pool (createClientPool())', () => createClientPool({ url: redis.url })],
    ['an object of another class', () => new (class RedisLookalike {
      readonly status = 'ready';
    })()],
  ])('a client the module cannot drive, %s, is refused at start-up, naming the option, instead of failing every decision', async (_name, create) => {
    const message = await expectConfigError(withModule([UndecoratedController], { redis: create() as never }), 'redis');
    expect(message).toMatch(/ioredis/);
    expect(message).toMatch(/node-redis/);
  });

  it('a node-redis client is accepted (and connected at start-up if it is not yet), and left open without our listeners', async () => {
    const client = createClient({ url: redis.url }).on('error', () => undefined);
    const listeners = () => ['ready', 'reconnecting', 'end'].map((event) => client.listenerCount(event));
    const before = listeners();
    try {
      expect(await startupError(adapter, withModule([UndecoratedController], { redis: client }))).toBeUndefined();
      expect(client.isReady).toBe(true);
      expect(await client.ping()).toBe('PONG');
      expect(listeners()).toEqual(before);
    } finally {
      client.destroy();
    }
  });

  it('importing the module twice is refused', async () => {
    @Module({ imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `err2-${adapter}` })] })
    class FeatureModule {}
    await expectConfigError({ imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `err-${adapter}` }), FeatureModule] }, 'RateLimitModule');
  });

  it.each(BAD_OPTIONS)('module option %s: %j is refused, naming the option', async (option, value) => {
    await expectConfigError({ imports: [RateLimitModule.forRoot({ redis: redis.url, [option]: value } as RateLimitModuleOptions)] }, option);
  });

  it('a missing `redis` is refused', async () => {
    await expectConfigError({ imports: [RateLimitModule.forRoot({})] }, 'redis');
  });

  it.each([['with a space'], ['a'.repeat(33)], ['bad{tag}'], ['']])('keyPrefix %j is refused', async (keyPrefix) => {
    await expectConfigError({ imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix })] }, 'keyPrefix');
  });

  it('a valid configuration starts', async () => {
    expect(await startupError(adapter, withModule([routeWith({ limit: 1, window: '1m', algorithm: 'gcra', burst: 2, cost: 0 })]))).toBeUndefined();
  });
});
