import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type {
  RedisClusterConnection,
  RedisConnection,
  RedisSentinelConnection,
} from '../../interfaces/rate-limit-module-options.interface.js';
import { IoredisPort, type IoredisClient } from './ioredis-port.js';
import { NodeRedisPort } from './node-redis-port.js';
import { isNodeRedisClient, type NodeRedisClient } from './node-redis-shapes.js';
import type { RedisPort } from './redis-port.js';

/** A client the app may pass as `redis`: ioredis (or one with its interface), or node-redis. */
export type RedisClient = IoredisClient | NodeRedisClient;

/** An existing ioredis client (`Redis` or `Cluster`), recognised by shape so that any copy of ioredis works. */
export function isIoredisClient(value: unknown): value is IoredisClient {
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

/**
 * Reconnects quickly (ioredis 6's default backs off to 5 s, which would keep a recovered Redis
 * unused for seconds): 50, 100, 200... ms, at most 1 s, plus jitter so instances do not reconnect in step.
 */
export const reconnectDelay = (times: number): number => Math.min(50 * 2 ** Math.min(times - 1, 5), 1_000) + Math.floor(Math.random() * 100);

/** A master demoted behind our back (a failover that did not close the connection) answers READONLY: reconnect. */
const reconnectOnReadonly = (error: Error) => error.message.startsWith('READONLY');

/** Defaults for the clients the module creates; the user's own options override them. */
const CLIENT_DEFAULTS: RedisOptions = {
  retryStrategy: reconnectDelay,
  reconnectOnError: reconnectOnReadonly,
  // A decision in flight when the connection drops is failed at once (the engine already gave
  // up on it after `timeout`), never replayed after the reconnect, where it would charge a
  // budget for a request that was answered long ago.
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
};

// Requests must never wait in ioredis's offline queue: while disconnected, fail fast into
// failMode. Not overridable: the engine's fail-fast contract depends on it.
const FAIL_FAST = { enableOfflineQueue: false } as const;

/** A client the module can drive, ioredis or node-redis, recognised by shape. */
export const isRedisClient = (value: unknown): value is RedisClient => isIoredisClient(value) || isNodeRedisClient(value);

/** The port on a client the app passed (`owned`: false) or the module created (always ioredis). */
export function portOf(client: RedisClient, owned: boolean): RedisPort {
  return isNodeRedisClient(client) ? new NodeRedisPort(client) : new IoredisPort(client, owned);
}

/** The client a connection option describes: the app's own, or one the module creates; `owned` clients are closed with the app. */
export function connectRedis(connection: RedisConnection): { client: RedisClient; owned: boolean } {
  if (isRedisClient(connection)) return { client: connection, owned: false };
  return { client: createClient(connection), owned: true };
}

/** Connection options to the ioredis client the module creates for them. */
function createClient(connection: Exclude<RedisConnection, RedisClient>): IoredisClient {
  if (typeof connection === 'string') return new Redis(connection, { ...CLIENT_DEFAULTS, ...FAIL_FAST });
  if (isCluster(connection)) {
    const options = connection.options ?? {};
    // The Cluster's own offline queue is what a request could wait in (while the slots are
    // unknown or the cluster reconnects): off. Node connections are created lazily by
    // ioredis with their own offline queue forced on (so the first command to a node may be
    // sent while it connects); it cannot be turned off there, and the engine's timeout bounds it.
    return new Cluster(connection.cluster, {
      ...options,
      ...FAIL_FAST,
      redisOptions: options.redisOptions,
    });
  }
  if (isSentinel(connection)) {
    // failoverDetector: subscribe to the sentinels' +switch-master and reconnect to the new
    // master at once, also when the old one stays up as a replica.
    return new Redis({ ...CLIENT_DEFAULTS, failoverDetector: true, ...connection, ...FAIL_FAST });
  }
  return new Redis({ ...CLIENT_DEFAULTS, ...(connection as RedisOptions), ...FAIL_FAST });
}
