import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';

/**
 * What must exist once per process even when both builds of this package, ESM and CommonJS,
 * are loaded (an app that requires it while one of its dependencies imports it): each build has
 * its own module-level variables and its own classes, so state kept in them would exist twice
 * and `instanceof` would fail on the other build's objects.
 */
interface ProcessState {
  /** The guard's verdicts with after-work, by request (or argument list), for `RateLimitInterceptor`. */
  verdicts?: WeakMap<object, RateLimitVerdict>;
}

const KEY: unique symbol = Symbol.for('nestjs-redis-rate-limit');
const state = ((globalThis as { [KEY]?: ProcessState })[KEY] ??= {});

export const sharedVerdicts = (state.verdicts ??= new WeakMap());

/**
 * The property of an execution context holding the guard's verdict: the guards of a handler
 * (app-wide and hand-bound ones alike) get one context per call, so a second guard finds it there.
 */
export const CONTEXT_VERDICT: unique symbol = Symbol.for('nestjs-redis-rate-limit:verdict');

/** Brands every build's `RateLimitGuard` (and its subclasses): checked instead of `instanceof`. */
export const RATE_LIMIT_GUARD: unique symbol = Symbol.for('nestjs-redis-rate-limit:guard');

/** `RateLimitGuard`, a subclass of it, or an instance of either, of any build. */
export function isRateLimitGuard(value: unknown): boolean {
  const type = typeof value === 'function' ? value : (value as object | null | undefined)?.constructor;
  return (type as { [RATE_LIMIT_GUARD]?: unknown } | undefined)?.[RATE_LIMIT_GUARD] === true;
}
