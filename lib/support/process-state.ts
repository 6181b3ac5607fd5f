import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';

/**
 * What must exist once per process even when both builds of this package, ESM and CommonJS,
 * are loaded (an app that requires it while one of its dependencies imports it): each build has
 * its own module-level variables and its own classes, so state kept in them would exist twice
 * and `instanceof` would fail on the other build's objects.
 */
interface ProcessState {
  /** The guard's verdicts by request (or argument list), so no second guard charges again. */
  verdicts?: WeakMap<object, RateLimitVerdict>;
}

const KEY: unique symbol = Symbol.for('nestjs-redis-rate-limit');
const state = ((globalThis as { [KEY]?: ProcessState })[KEY] ??= {});

export const sharedVerdicts = (state.verdicts ??= new WeakMap());

/** Brands every build's `RateLimitGuard` (and its subclasses): checked instead of `instanceof`. */
export const RATE_LIMIT_GUARD: unique symbol = Symbol.for('nestjs-redis-rate-limit:guard');

/** `RateLimitGuard`, a subclass of it, or an instance of either, of any build. */
export function isRateLimitGuard(value: unknown): boolean {
  const type = typeof value === 'function' ? value : (value as object | null | undefined)?.constructor;
  return (type as { [RATE_LIMIT_GUARD]?: unknown } | undefined)?.[RATE_LIMIT_GUARD] === true;
}
