import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RATE_LIMIT_STORE, RateLimitEngine, type RateLimitStore } from 'nestjs-redis-rate-limit';

export type RateLimitStoreMode = 'standalone' | 'cluster' | 'sentinel' | 'memory';

/** PING answers faster than this on any healthy Redis; past it the indicator reports down. */
const PING_TIMEOUT_MS = 500;

/** What the indicator uses of the Redis store's client port (the same for ioredis and node-redis). */
interface RedisPortView {
  readonly mode: Exclude<RateLimitStoreMode, 'memory'>;
  isReady(): boolean;
  status(): string;
  ping(): Promise<unknown>;
}

const redisPortOf = (store: RateLimitStore): RedisPortView | undefined => {
  const port = (store as { redis?: Partial<RedisPortView> }).redis;
  return typeof port?.ping === 'function' && typeof port.isReady === 'function' ? (port as RedisPortView) : undefined;
};

function pingWithin(client: RedisPortView, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no PONG within ${ms} ms`)), ms);
    client.ping().then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/**
 * Terminus health indicator of the rate limiter's store: PINGs Redis (never waiting more than
 * 500 ms) and reports `{ mode, latencyMs, breaker }`, `breaker` being the state of the circuit
 * breaker in front of the store. It never throws. With `failMode: 'open'` keep it out of
 * readiness probes: a Redis outage would pull every instance.
 */
@Injectable()
export class RateLimitHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly engine: RateLimitEngine,
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
  ) {}

  async isHealthy<const Key extends string = 'redis'>(key: Key = 'redis' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.healthIndicatorService.check(key);
    const redis = redisPortOf(this.store);
    const details = { mode: redis?.mode ?? 'memory', breaker: this.engine.breaker.state };
    if (!redis) return indicator.up({ ...details, latencyMs: 0 });
    if (!redis.isReady()) return indicator.down({ ...details, latencyMs: 0, message: `Redis connection is ${redis.status()}` });
    const started = performance.now();
    const latencyMs = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      await pingWithin(redis, PING_TIMEOUT_MS);
      return indicator.up({ ...details, latencyMs: latencyMs() });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return indicator.down({ ...details, latencyMs: latencyMs(), message: `Redis PING failed: ${message}` });
    }
  }
}
