export const RATE_LIMIT_POLICIES = 'nestjs-redis-rate-limit:policies';
export const SKIP_RATE_LIMIT = 'nestjs-redis-rate-limit:skip';
/** Injection token of the validated module options. */
export const RATE_LIMIT_OPTIONS = Symbol('RATE_LIMIT_OPTIONS');
/** Injection token of the store that decides (Redis, or memory). */
export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');
/** Injection token: whether the module registered its guard app-wide. */
export const RATE_LIMIT_GLOBAL_GUARD = Symbol('RATE_LIMIT_GLOBAL_GUARD');
