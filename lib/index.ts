export { RateLimitModule } from './rate-limit.module.js';
export type { RateLimitModuleExtras } from './rate-limit.module-definition.js';
export { RateLimit } from './decorators/rate-limit.decorator.js';
export { SkipRateLimit } from './decorators/skip-rate-limit.decorator.js';
export { RateLimitGuard } from './guards/rate-limit.guard.js';
export { RateLimiterService, type RateLimitReservation, type RateLimitSlot } from './services/rate-limiter.service.js';
export { RateLimitInterceptor } from './interceptors/rate-limit.interceptor.js';
export { RateLimitException, type RateLimitExceptionBody } from './errors/rate-limit.exception.js';
export { RateLimitUnavailableException } from './errors/rate-limit-unavailable.exception.js';
export { RateLimitConfigError } from './errors/rate-limit-config.error.js';
export { RATE_LIMIT_STORE } from './rate-limit.constants.js';
export { RateLimitEngine } from './engine/rate-limit-engine.js';
export type { RateLimitStore } from './store/rate-limit-store.interface.js';
export type {
  RateLimitModuleOptions,
  RateLimitOptionsFactory,
  RedisConnection,
  RedisClusterConnection,
  RedisSentinelConnection,
  IoredisCompatibleClient,
  NodeRedisCompatibleClient,
  HeaderStyle,
  DenyCacheOptions,
} from './interfaces/rate-limit-module-options.interface.js';
export type {
  RateLimitPolicy,
  RateLimitAlgorithm,
  Duration,
  FailMode,
  EnforcementMode,
  ContextValue,
  Tracker,
  TrackerValue,
  RefundMode,
  Settle,
  SettleOutcome,
} from './interfaces/rate-limit-policy.interface.js';
export type { RateLimitDecision, RateLimitEvent, RateLimitOutcome } from './interfaces/rate-limit-decision.interface.js';
export { RATE_LIMIT_METRICS, RATE_LIMIT_STORE_DURATION_BUCKETS } from './metrics/rate-limit-metrics.js';
export {
  RATE_LIMIT_STORE_FAILURE_REASONS,
  type RateLimitObservedOutcome,
  type RateLimitObservedPolicy,
  type RateLimitObserver,
  type RateLimitStoreFailureReason,
} from './metrics/rate-limit-observer.js';
