import type { ResolvedOptions } from '../options/resolved-options.js';
import type { RateLimitStore } from './rate-limit-store.interface.js';
import { connectRedis } from './redis/redis-connection.js';
import { RedisRateLimitStore } from './redis/redis-rate-limit-store.js';

export function createStore(options: ResolvedOptions): RateLimitStore {
  const { client, owned } = connectRedis(options.redis!);
  return new RedisRateLimitStore(client, owned);
}
