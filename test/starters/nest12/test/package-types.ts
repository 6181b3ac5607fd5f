// Compiled, never run: fails the type check if the package's types resolve to `any`
// (a subpath that the project's module resolution cannot see).
import type { RateLimitGuard, RateLimitModule, RateLimiterService } from 'nestjs-redis-rate-limit';
import type { RateLimitHealthIndicator } from 'nestjs-redis-rate-limit/terminus';

type IsAny<T> = 0 extends 1 & T ? true : false;
type Resolved<T> = IsAny<T> extends true ? never : true;

export const resolved: [
  Resolved<RateLimitModule>,
  Resolved<RateLimitGuard>,
  Resolved<RateLimiterService>,
  Resolved<Awaited<ReturnType<RateLimitHealthIndicator['isHealthy']>>>,
] = [true, true, true, true];
