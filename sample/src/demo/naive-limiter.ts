import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';

/**
 * THE ANTI-PATTERN, kept here to be compared: read the count, compare it in Node, write it back.
 * Between one request's GET and its SET, every other request in flight reads the same count, so
 * a concurrent burst admits far more than the limit. The library decides in one Lua script
 * instead, which Redis runs atomically.
 */
@Injectable()
export class NaiveLimiter implements OnModuleDestroy {
  private readonly redis: Redis | undefined;

  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    this.redis = config.store === 'redis' ? new Redis(config.redisUrl, { commandTimeout: 500, maxRetriesPerRequest: 1, lazyConnect: true }) : undefined;
  }

  get available(): boolean {
    return this.redis !== undefined;
  }

  /** Fixed window of `windowMs`: true when this request was admitted. */
  async take(key: string, limit: number, windowMs: number): Promise<boolean> {
    if (!this.redis) throw new Error('the naive limiter needs Redis');
    const redisKey = `sample:naive:${key}:${Math.floor(Date.now() / windowMs)}`;
    const count = Number((await this.redis.get(redisKey)) ?? 0);
    if (count >= limit) return false;
    await this.redis.set(redisKey, count + 1, 'PX', windowMs);
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    this.redis?.disconnect();
  }
}
