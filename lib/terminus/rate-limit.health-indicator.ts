import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Cluster, Redis } from 'ioredis';
import { RATE_LIMIT_STORE, RateLimitEngine, type RateLimitStore } from 'nestjs-redis-rate-limit';

export type RateLimitStoreMode = 'standalone' | 'cluster' | 'sentinel' | 'memory';

/** PING answers faster than this on any healthy Redis; past it the indicator reports down. */
const PING_TIMEOUT_MS = 500;

const isRedisClient = (value: unknown): value is Redis | Cluster =>
  typeof value === 'object' && value !== null &&
  typeof (value as Redis).ping === 'function' && typeof (value as Redis).status === 'string';

function modeOf(client: Redis | Cluster | undefined): RateLimitStoreMode {
  if (!client) return 'memory';
  if (client.isCluster) return 'cluster';
  return (client as Redis).options?.sentinels?.length ? 'sentinel' : 'standalone';
}

function pingWithin(client: Redis | Cluster, ms: number): Promise<unknown> {
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
    const client = (this.store as { client?: unknown }).client;
    const redis = isRedisClient(client) ? client : undefined;
    const details = { mode: modeOf(redis), breaker: this.engine.breaker.state };
    if (!redis) return indicator.up({ ...details, latencyMs: 0 });
    if (redis.status !== 'ready') return indicator.down({ ...details, latencyMs: 0, message: `Redis connection is ${redis.status}` });
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
