import { Cluster, Redis } from 'ioredis';
import type {
  RedisClusterConnection,
  RedisConnection,
  RedisSentinelConnection,
} from '../../interfaces/rate-limit-module-options.interface.js';

export type RedisClient = Redis | Cluster;

/** An existing ioredis client (`Redis` or `Cluster`), recognised by shape so that any copy of ioredis works. */
export function isRedisClient(value: unknown): value is RedisClient {
  const candidate = value as Partial<Redis> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.defineCommand === 'function' &&
    typeof candidate.status === 'string' &&
    typeof candidate.quit === 'function'
  );
}

const isCluster = (value: object): value is RedisClusterConnection => Array.isArray((value as RedisClusterConnection).cluster);
const isSentinel = (value: object): value is RedisSentinelConnection => Array.isArray((value as RedisSentinelConnection).sentinels);

// Requests must never wait in ioredis's offline queue: while disconnected, fail fast into failMode.
const FAIL_FAST = { enableOfflineQueue: false } as const;

/** Creates the client a connection option describes; `owned` clients are closed with the app. */
export function connectRedis(connection: RedisConnection): { client: RedisClient; owned: boolean } {
  if (isRedisClient(connection)) return { client: connection, owned: false };
  if (typeof connection === 'string') return { client: new Redis(connection, FAIL_FAST), owned: true };
  if (isCluster(connection)) {
    const options = connection.options ?? {};
    const client = new Cluster(connection.cluster, {
      ...options,
      ...FAIL_FAST,
      redisOptions: { ...options.redisOptions, ...FAIL_FAST },
    });
    return { client, owned: true };
  }
  if (isSentinel(connection)) return { client: new Redis({ ...connection, ...FAIL_FAST }), owned: true };
  return { client: new Redis({ ...connection, ...FAIL_FAST }), owned: true };
}
