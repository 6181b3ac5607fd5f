export const RATE_LIMIT_POLICIES = 'nestjs-redis-rate-limit:policies';
export const SKIP_RATE_LIMIT = 'nestjs-redis-rate-limit:skip';
/** Where the guard leaves its verdict on the request object. */
export const RATE_LIMIT_VERDICT = Symbol.for('nestjs-redis-rate-limit:verdict');
