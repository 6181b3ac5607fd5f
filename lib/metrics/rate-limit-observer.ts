/**
 * The integration point for metrics: what the engine, the store and the circuit breaker report to
 * observers added with `RateLimitEngine.addObserver`. `nestjs-redis-rate-limit/prometheus` and
 * `nestjs-redis-rate-limit/opentelemetry` are observers; any other metrics system can be one.
 * With no observer added, none of this runs (each report site checks for an observer once).
 */

/** A policy's outcome in one decision: `shadow_denied` is a shadow policy's denial (the request was not blocked by it). */
export type RateLimitObservedOutcome = 'allowed' | 'denied' | 'failed' | 'shadow_denied' | 'error';

/** Why the store gave no verdict for a decision. */
export const RATE_LIMIT_STORE_FAILURE_REASONS = ['timeout', 'disconnected', 'circuit_open', 'error'] as const;
export type RateLimitStoreFailureReason = (typeof RATE_LIMIT_STORE_FAILURE_REASONS)[number];

/**
 * The policy a decision was made under: one object per policy and route, kept as long as the policy
 * is (cache per-policy work, such as bound metric labels, in a `WeakMap` keyed by it).
 */
export interface RateLimitObservedPolicy {
  /** The policy's `name`. */
  readonly name: string;
  /** The handler it guards (`CatsController.find`), or `RateLimiterService`: bounded, never a tracker value. */
  readonly where: string;
}

/**
 * Decisions and deny-cache hits arrive as counts, gathered over one turn of the event loop: under
 * load many requests share a turn, so a metric pays one update per turn, not one per request.
 * They are reported at the end of the turn, before any I/O of the next one.
 */
export interface RateLimitObserver {
  /** `count` decisions of `policy` with `outcome` (one per policy of each request; deny-cache answers included). */
  decisions(outcome: RateLimitObservedOutcome, policy: RateLimitObservedPolicy, count: number): void;
  /** Once per store call, answered or failed: a batch of decisions sent together is one call. */
  storeCall(seconds: number): void;
  /** Once per decision the store gave no verdict for (the request then followed its `failMode`). */
  storeFailure(reason: RateLimitStoreFailureReason): void;
  /** The circuit breaker opened (`true`), or closed after a successful probe (`false`); also once when the observer is added. */
  circuitChanged(open: boolean): void;
  /** `count` requests answered from the deny cache, with no store call. */
  denyCacheHits(count: number): void;
}
