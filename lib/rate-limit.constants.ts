export const RATE_LIMIT_POLICIES = 'nestjs-redis-rate-limit:policies';
export const SKIP_RATE_LIMIT = 'nestjs-redis-rate-limit:skip';
// Injection tokens are registered symbols: a guard of either build (ESM, CommonJS) finds them.
/** Injection token of the validated module options. */
export const RATE_LIMIT_OPTIONS = Symbol.for('nestjs-redis-rate-limit:options');
/** Injection token of the store that decides (Redis, or memory). */
export const RATE_LIMIT_STORE = Symbol.for('nestjs-redis-rate-limit:store');
/** Injection token: whether the module registered its guard app-wide. */
export const RATE_LIMIT_GLOBAL_GUARD = Symbol.for('nestjs-redis-rate-limit:global-guard');
/**
 * Injection tokens of the services the guard needs, aliases of their classes: a guard of one
 * build then finds the services of a module of the other, whose classes are not its own.
 */
export const RATE_LIMIT_POLICY_REGISTRY = Symbol.for('nestjs-redis-rate-limit:policy-registry');
export const RATE_LIMIT_ENGINE = Symbol.for('nestjs-redis-rate-limit:engine');
export const RATE_LIMIT_HEADER_WRITER = Symbol.for('nestjs-redis-rate-limit:header-writer');
