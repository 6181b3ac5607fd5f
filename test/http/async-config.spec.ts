import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Inject, Injectable, Module, UseGuards } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  RateLimit,
  RateLimitGuard,
  RateLimitModule,
  type RateLimitModuleOptions,
  type RateLimitOptionsFactory,
} from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, keysWithTtl, sequential } from '../support/http-suite.js';

/**
 * `forRootAsync` with `useFactory` (+ `inject` and `imports` of a config module), `useClass`
 * and `useExisting`: each produces working limits with the options it supplies. Also the other
 * shapes of the `redis` option: ioredis options, and an existing client (which the module must
 * not close).
 */

const REDIS_URL = Symbol('REDIS_URL');

/** A stand-in for a configuration service. */
@Injectable()
class RateLimitConfig {
  constructor(@Inject(REDIS_URL) readonly redisUrl: string) {}
  prefix = 'unset';
}

/** Options built by a class, as `useClass` / `useExisting` need. */
@Injectable()
class RateLimitOptionsService implements RateLimitOptionsFactory {
  constructor(private readonly config: RateLimitConfig) {}

  createRateLimitOptions(): RateLimitModuleOptions {
    return { redis: this.config.redisUrl, keyPrefix: this.config.prefix, tracker: clientHeaderTracker, headers: 'ietf', timeout: DECISION_TIMEOUT };
  }
}

@Controller('async')
class AsyncController {
  @Get()
  @RateLimit({ limit: 2, window: '1d' })
  limited() {
    return { ok: true };
  }
}

@Controller('async-guarded')
class AsyncGuardedController {
  @Get()
  @UseGuards(RateLimitGuard)
  @RateLimit({ limit: 1, window: '1d' })
  limited() {
    return { ok: true };
  }
}

let redis: RedisServer;
let raw: Redis;
beforeAll(async () => {
  redis = await RedisServer.start();
  raw = redis.client();
});
afterAll(async () => {
  raw.disconnect();
  await redis.destroy();
});

/** A config module exporting the config service (and the options service, for useExisting). */
function configModule(prefix: string) {
  @Module({
    providers: [
      { provide: REDIS_URL, useValue: redis.url },
      { provide: RateLimitConfig, useFactory: (url: string) => Object.assign(new RateLimitConfig(url), { prefix }), inject: [REDIS_URL] },
      RateLimitOptionsService,
    ],
    exports: [RateLimitConfig, RateLimitOptionsService],
  })
  class ConfigModule {}
  return ConfigModule;
}

const prefixedKeys = async (prefix: string) => [...(await keysWithTtl(raw)).keys()].filter((key) => key.startsWith(`${prefix}:`));

describe.each(ADAPTERS)('RateLimitModule.forRootAsync on %s', (adapter) => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((app) => app.close())));

  async function expectWorkingLimit(app: TestApp, prefix: string, path = 'async', limit = 2) {
    apps.push(app);
    const results = await sequential(`${app.url}/${path}`, limit + 1, { 'x-client': 'async' });
    expect(results.map((r) => r.status)).toEqual([...Array(limit).fill(200), 429]);
    // the options came from the factory: IETF headers only, keys under its keyPrefix
    expect(results[0].headers.ratelimit).toMatch(new RegExp(`^"default";r=${limit - 1};t=\\d+$`));
    expect(results[0].headers['x-ratelimit-limit']).toBeUndefined();
    expect(await prefixedKeys(prefix)).not.toEqual([]);
  }

  it('useFactory with inject and imports of a config module', async () => {
    const prefix = `fac-${adapter}`;
    const ConfigModule = configModule(prefix);
    const app = await startApp(adapter, {
      imports: [
        RateLimitModule.forRootAsync({
          imports: [ConfigModule],
          inject: [RateLimitConfig],
          useFactory: async (config: RateLimitConfig) => ({ redis: config.redisUrl, keyPrefix: config.prefix, tracker: clientHeaderTracker, headers: 'ietf', timeout: DECISION_TIMEOUT }),
        }),
      ],
      controllers: [AsyncController],
    });
    await expectWorkingLimit(app, prefix);
  });

  it('useClass', async () => {
    const prefix = `cls-${adapter}`;
    const app = await startApp(adapter, {
      imports: [RateLimitModule.forRootAsync({ imports: [configModule(prefix)], useClass: RateLimitOptionsService })],
      controllers: [AsyncController],
    });
    await expectWorkingLimit(app, prefix);
  });

  it('useExisting', async () => {
    const prefix = `ext-${adapter}`;
    const app = await startApp(adapter, {
      imports: [RateLimitModule.forRootAsync({ imports: [configModule(prefix)], useExisting: RateLimitOptionsService })],
      controllers: [AsyncController],
    });
    await expectWorkingLimit(app, prefix);
  });

  it('globalGuard: false sits outside the factory and works with @UseGuards(RateLimitGuard)', async () => {
    const prefix = `gg-${adapter}`;
    const ConfigModule = configModule(prefix);
    const app = await startApp(adapter, {
      imports: [
        RateLimitModule.forRootAsync({
          imports: [ConfigModule],
          inject: [RateLimitConfig],
          useFactory: (config: RateLimitConfig) => ({ redis: config.redisUrl, keyPrefix: config.prefix, tracker: clientHeaderTracker, headers: 'ietf', timeout: DECISION_TIMEOUT }),
          globalGuard: false,
        }),
      ],
      controllers: [AsyncGuardedController],
    });
    await expectWorkingLimit(app, prefix, 'async-guarded', 1);
  });
});

describe.each(ADAPTERS)('the redis option on %s', (adapter) => {
  it('accepts ioredis RedisOptions', async () => {
    const prefix = `opts-${adapter}`;
    const app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: { host: '127.0.0.1', port: redis.port }, keyPrefix: prefix, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [AsyncController],
    });
    try {
      const results = await sequential(`${app.url}/async`, 3, { 'x-client': 'options' });
      expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(await prefixedKeys(prefix)).not.toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('uses an existing client, and leaves it open when the app closes', async () => {
    const client = redis.client();
    try {
      const prefix = `client-${adapter}`;
      const app = await startApp(adapter, {
        imports: [RateLimitModule.forRoot({ redis: client, keyPrefix: prefix, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
        controllers: [AsyncController],
      });
      const results = await sequential(`${app.url}/async`, 3, { 'x-client': 'client' });
      await app.close();
      expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(await prefixedKeys(prefix)).not.toEqual([]);
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
