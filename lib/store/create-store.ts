import type { ResolvedOptions } from '../options/resolved-options.js';
import type { RateLimitStore } from './rate-limit-store.interface.js';
import { MemoryRateLimitStore } from './memory/memory-rate-limit-store.js';
import { connectRedis } from './redis/redis-connection.js';
import { RedisRateLimitStore } from './redis/redis-rate-limit-store.js';

export function createStore(options: ResolvedOptions): RateLimitStore {
  // Disabled, nothing is decided: no connection is made for it.
  if (options.store === 'memory' || !options.enabled) return new MemoryRateLimitStore();
  const { client, owned } = connectRedis(options.redis!);
  return new RedisRateLimitStore(client, owned);
}
