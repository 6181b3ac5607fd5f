import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions, SentinelAddress } from 'ioredis';
import type { ExecutionContext } from '@nestjs/common';
import type { EnforcementMode, FailMode, RateLimitPolicy, SkipIf, Tracker } from './rate-limit-policy.interface.js';
import type { RateLimitDecision, RateLimitEvent } from './rate-limit-decision.interface.js';

export interface RedisClusterConnection {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

export interface RedisSentinelConnection extends RedisOptions {
  sentinels: Array<Partial<SentinelAddress>>;
  name: string;
}

/**
 * A client of another package with ioredis's interface, such as `iovalkey` (Valkey's fork of
 * ioredis): recognised by shape and used as an ioredis client.
 */
export interface IoredisCompatibleClient {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
  readonly status: string;
  quit(): Promise<unknown>;
}

/**
 * A node-redis (`redis` v5+) client: `createClient()`, `createCluster()` or `createSentinel()`,
 * recognised by shape (node-redis is an optional peer; its types are not needed).
 */
export interface NodeRedisCompatibleClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  sendCommand(...args: never[]): Promise<unknown>;
}

export type RedisConnection =
  | string
  | RedisOptions
  | RedisClusterConnection
  | RedisSentinelConnection
  | Redis
  | Cluster
  | IoredisCompatibleClient
  | NodeRedisCompatibleClient;

export type HeaderStyle = 'legacy' | 'ietf' | 'both' | 'none';

export interface DenyCacheOptions {
  enabled?: boolean;
  max?: number;
}

/** The `message` of a 429 body: a string, or a function of the request and the denying decision. */
export type ErrorMessage = string | ((context: ExecutionContext, decision: RateLimitDecision) => string);

export interface RateLimitModuleOptions {
  /** `false` turns limiting off: nothing is limited, no Redis connection is made (an app's own e2e tests). Default `true`. */
  enabled?: boolean;
  redis?: RedisConnection;
  store?: 'redis' | 'memory';
  policies?: RateLimitPolicy[];
  defaults?: Partial<RateLimitPolicy>;
  keyPrefix?: string;
  tracker?: Tracker;
  ipv6Prefix?: number;
  failMode?: FailMode;
  timeout?: number;
  headers?: HeaderStyle;
  mode?: EnforcementMode;
  denyCache?: DenyCacheOptions;
  onDecision?: (event: RateLimitEvent) => void;
  /** A request for which it returns `true` is not limited by any policy. */
  skipIf?: SkipIf;
  /** The `message` of a 429 body; default `'Too Many Requests'`. */
  errorMessage?: ErrorMessage;
}

export interface RateLimitOptionsFactory {
  createRateLimitOptions(): RateLimitModuleOptions | Promise<RateLimitModuleOptions>;
}
