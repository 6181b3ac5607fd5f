import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { RateLimiterService, RateLimitModule, type RateLimitModuleOptions } from 'nestjs-redis-rate-limit';
import { RateLimitHealthIndicator } from 'nestjs-redis-rate-limit/terminus';
import { standaloneClient, type PassedClient } from '../support/redis-clients.js';
import { RedisServer } from '../support/redis-server.js';

async function indicatorFor(options: RateLimitModuleOptions): Promise<{ indicator: RateLimitHealthIndicator; moduleRef: TestingModule }> {
  const moduleRef = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot(options), TerminusModule],
    providers: [RateLimitHealthIndicator],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return { indicator: moduleRef.get(RateLimitHealthIndicator), moduleRef };
}

describe.each([
  ['a URL (the module connects ioredis)', 'url'],
  ['a node-redis client', 'node-redis'],
] as const)('RateLimitHealthIndicator on standalone Redis, redis: %s', (_label, connection) => {
  let redis: RedisServer;
  let passed: PassedClient | undefined;
  let indicator: RateLimitHealthIndicator;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    redis = await RedisServer.start();
    if (connection === 'node-redis') passed = await standaloneClient('node-redis', redis.port);
    ({ indicator, moduleRef } = await indicatorFor({ redis: (passed?.client ?? redis.url) as RateLimitModuleOptions['redis'] }));
  });
  afterAll(async () => {
    await moduleRef.close();
    await passed?.close();
    await redis.destroy();
  });

  it('is up with the mode, the PING latency and the breaker state while Redis answers', async () => {
    const result = await indicator.isHealthy();
    expect(result).toEqual({ redis: { status: 'up', mode: 'standalone', breaker: 'closed', latencyMs: expect.any(Number) } });
  });

  it('reports under the key it is given', async () => {
    expect(Object.keys(await indicator.isHealthy('rate-limit'))).toEqual(['rate-limit']);
  });

  it('is down, without throwing, while Redis is frozen, and shows the breaker its failed decisions opened', async () => {
    redis.pause();
    try {
      const limiter = moduleRef.get(RateLimiterService);
      for (let i = 0; i < 5; i++) await limiter.consume('client', { limit: 10, window: '1m' });
      const result = await indicator.isHealthy();
      expect(result.redis).toMatchObject({ status: 'down', mode: 'standalone', breaker: 'open', message: expect.stringContaining('no PONG') });
    } finally {
      redis.resume();
    }
  });

  it('is down when the Redis server is gone', async () => {
    await redis.stop();
    const result = await indicator.isHealthy();
    expect(result.redis).toMatchObject({ status: 'down', mode: 'standalone', message: expect.any(String) });
  });
});

describe('RateLimitHealthIndicator on the memory store', () => {
  it('is always up, in memory mode', async () => {
    const { indicator, moduleRef } = await indicatorFor({ store: 'memory' });
    try {
      expect(await indicator.isHealthy()).toEqual({ redis: { status: 'up', mode: 'memory', breaker: 'closed', latencyMs: 0 } });
    } finally {
      await moduleRef.close();
    }
  });
});
