import type {
  ErrorMessage,
  HeaderStyle,
  RateLimitModuleOptions,
  RedisConnection,
} from '../interfaces/rate-limit-module-options.interface.js';
import type { RateLimitEvent } from '../interfaces/rate-limit-decision.interface.js';
import type {
  EnforcementMode,
  FailMode,
  RateLimitPolicy,
  SkipIf,
  Tracker,
} from '../interfaces/rate-limit-policy.interface.js';
import { configError, describeValue } from '../errors/rate-limit-config.error.js';
import { compilePolicy } from '../policy/compile-policy.js';
import { isRedisClient } from '../store/redis/redis-connection.js';

/** Module options after validation, with every default filled in. */
export interface ResolvedOptions {
  enabled: boolean;
  redis: RedisConnection | undefined;
  store: 'redis' | 'memory';
  policies: RateLimitPolicy[];
  defaults: Partial<RateLimitPolicy>;
  keyPrefix: string;
  tracker: Tracker | undefined;
  ipv6Prefix: number;
  failMode: FailMode;
  timeout: number;
  headers: HeaderStyle;
  mode: EnforcementMode;
  denyCache: { enabled: boolean; max: number };
  onDecision: ((event: RateLimitEvent) => void) | undefined;
  skipIf: SkipIf | undefined;
  errorMessage: ErrorMessage;
}

const WHERE = 'RateLimitModule options';
const KEY_PREFIX = /^[A-Za-z0-9:_-]{1,32}$/;

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (allowed.includes(value as T)) return value as T;
  throw configError(WHERE, `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${describeValue(value)})`);
}

function integer(field: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw configError(WHERE, `${field} must be an integer from ${min} to ${max} (got ${describeValue(value)})`);
}

function optionalFunction<T>(field: string, value: unknown): T | undefined {
  if (value === undefined || typeof value === 'function') return value as T | undefined;
  throw configError(WHERE, `${field} must be a function (got ${describeValue(value)})`);
}

export function resolveOptions(options: RateLimitModuleOptions | undefined): ResolvedOptions {
  if (!options || typeof options !== 'object') {
    throw configError(WHERE, `options must be an object (got ${describeValue(options)})`);
  }
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
    throw configError(WHERE, `enabled must be a boolean (got ${describeValue(options.enabled)})`);
  }
  const enabled = options.enabled ?? true;
  const store = oneOf('store', options.store, ['redis', 'memory'], 'redis');
  if (options.errorMessage !== undefined && typeof options.errorMessage !== 'string' && typeof options.errorMessage !== 'function') {
    throw configError(WHERE, `errorMessage must be a string or a function (got ${describeValue(options.errorMessage)})`);
  }
  if (enabled && store === 'redis' && (options.redis === undefined || options.redis === null || options.redis === '')) {
    throw configError(WHERE, `redis is required unless store is 'memory': give a URL, ioredis options, { cluster }, { sentinels, name } or a client`);
  }
  if (enabled && store === 'redis') checkClient(options.redis);
  if (options.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || !KEY_PREFIX.test(options.keyPrefix))) {
    throw configError(WHERE, `keyPrefix must match ${KEY_PREFIX.source} (got ${describeValue(options.keyPrefix)})`);
  }
  if (options.policies !== undefined && !Array.isArray(options.policies)) {
    throw configError(WHERE, `policies must be an array of policies (got ${describeValue(options.policies)})`);
  }
  if (options.defaults !== undefined && (typeof options.defaults !== 'object' || options.defaults === null)) {
    throw configError(WHERE, `defaults must be a partial policy object (got ${describeValue(options.defaults)})`);
  }
  const denyCache = options.denyCache ?? {};
  if (typeof denyCache !== 'object' || denyCache === null) {
    throw configError(WHERE, `denyCache must be an object (got ${describeValue(denyCache)})`);
  }
  if (denyCache.enabled !== undefined && typeof denyCache.enabled !== 'boolean') {
    throw configError(WHERE, `denyCache.enabled must be a boolean (got ${describeValue(denyCache.enabled)})`);
  }
  const resolved: ResolvedOptions = {
    enabled,
    redis: options.redis,
    store,
    policies: options.policies ?? [],
    defaults: options.defaults ?? {},
    keyPrefix: options.keyPrefix ?? 'rl',
    tracker: optionalFunction<Tracker>('tracker', options.tracker),
    ipv6Prefix: integer('ipv6Prefix', options.ipv6Prefix, 1, 128, 64),
    failMode: oneOf('failMode', options.failMode, ['open', 'closed', 'local'], 'open'),
    timeout: integer('timeout', options.timeout, 1, 60_000, 100),
    headers: oneOf('headers', options.headers, ['legacy', 'ietf', 'both', 'none'], 'legacy'),
    mode: oneOf('mode', options.mode, ['enforce', 'shadow'], 'enforce'),
    denyCache: {
      enabled: denyCache.enabled ?? true,
      max: integer('denyCache.max', denyCache.max, 1, 10_000_000, 10_000),
    },
    onDecision: optionalFunction('onDecision', options.onDecision),
    skipIf: optionalFunction<SkipIf>('skipIf', options.skipIf),
    errorMessage: options.errorMessage ?? 'Too Many Requests',
  };
  checkModulePolicies(resolved);
  return resolved;
}

/**
 * A client object the module cannot drive would start without error and then fail every
 * decision into `failMode`: refused here instead. Connection options are plain objects; a
 * client is an instance of a class.
 */
function checkClient(redis: unknown): void {
  if (typeof redis !== 'object' || redis === null || isRedisClient(redis)) return;
  const prototype = Object.getPrototypeOf(redis);
  if (prototype === Object.prototype || prototype === null) return;
  const name = (redis as { constructor?: { name?: string } }).constructor?.name || 'this object';
  throw configError(
    WHERE,
    `redis: ${name} is not a client this module can use: pass an ioredis client (Redis or Cluster), an ioredis-compatible one (iovalkey), ` +
      'a node-redis v5 client (createClient(), createCluster() or createSentinel()), or a URL or connection options for the module to connect itself',
  );
}

/** Module-wide policies are checked here too, so that an app with no routes still fails at start-up. */
function checkModulePolicies(resolved: ResolvedOptions): void {
  // `settle` needs the handler's value, which only the interceptor that `@RateLimit` attaches sees.
  if (resolved.defaults.settle !== undefined) {
    throw configError(`${WHERE}: defaults`, 'settle cannot be a module-wide default; give it to the policies of the handlers that settle, with @RateLimit');
  }
  if (resolved.policies.some((policy) => policy && policy.settle !== undefined)) {
    throw configError(`${WHERE}: policies`, 'a module-wide policy cannot settle; give settle to the policies of the handlers that need it, with @RateLimit');
  }
  const names = new Set<string>();
  for (const policy of resolved.policies) {
    const { name } = compilePolicy(policy, resolved, 'module', `${WHERE}: policies`);
    if (names.has(name)) throw configError(`${WHERE}: policies`, `two policies are named "${name}"; give each its own name`);
    names.add(name);
  }
}
