import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import type { Redis } from 'ioredis';
import { MemoryRateLimitStore } from '../../lib/store/memory/memory-rate-limit-store.js';
import { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import type { ClockedStore } from '../memory/calls.js';
import { RedisServer } from './redis-server.js';

/**
 * Both stores on a caller's clock, for suites that run each case against the Lua and its
 * memory mirror: a redis-server for the suite, emptied before each test.
 */
export function useClockedStores(): Record<'redis' | 'memory', () => ClockedStore> {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    client = server.client();
  });
  afterAll(async () => {
    client.disconnect();
    await server.destroy();
  });
  beforeEach(() => client.flushall());
  return {
    redis: () => new RedisRateLimitStore(client),
    memory: () => new MemoryRateLimitStore(),
  };
}
