import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions, SentinelAddress } from 'ioredis';
import type { EnforcementMode, FailMode, RateLimitPolicy, Tracker } from './rate-limit-policy.interface.js';
import type { RateLimitEvent } from './rate-limit-decision.interface.js';

export interface RedisClusterConnection {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

export interface RedisSentinelConnection extends RedisOptions {
  sentinels: Array<Partial<SentinelAddress>>;
  name: string;
}

export type RedisConnection = string | RedisOptions | RedisClusterConnection | RedisSentinelConnection | Redis | Cluster;

export type HeaderStyle = 'legacy' | 'ietf' | 'both' | 'none';

export interface DenyCacheOptions {
  enabled?: boolean;
  max?: number;
}

export interface RateLimitModuleOptions {
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
}

export interface RateLimitOptionsFactory {
  createRateLimitOptions(): RateLimitModuleOptions | Promise<RateLimitModuleOptions>;
}
