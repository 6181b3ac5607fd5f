import type { AlgorithmCode } from '../algorithms/algorithm-table.js';
import type { RateLimitObserver } from '../metrics/rate-limit-observer.js';

/** One policy of one decision, fully resolved: what the store needs and nothing else. */
export interface StoreCall {
  key: string;
  /** Present iff `blockForMs` > 0. */
  blockKey: string | undefined;
  algorithm: AlgorithmCode;
  limit: number;
  windowMs: number;
  burst: number;
  /** Units to take (an integer >= 0); 0 peeks, as does a give-back. */
  cost: number;
  blockForMs: number;
  shadow: boolean;
  /** Present on a give-back: units returned to an earlier charge of this same policy and key. */
  giveBack?: GiveBack;
  /** Present on a renewal: the concurrency slot of this handle lives another window from now. */
  renew?: ChargeHandle;
  /**
   * Present on a debt (a settle above its reservation): units charged whatever the budget has
   * left, the state exceeding capacity by at most one capacity.
   */
  debt?: number;
  /**
   * Present on a lease take (fixed-window, token-bucket, gcra; `cost` >= 1): the call takes as
   * many units as the budget has, at least `cost` and at most `lease`, as one charge (a denial,
   * when fewer than `cost` are left, is that of `cost`).
   */
  lease?: number;
}

/**
 * What one charge put into a budget's state, so that a give-back credits only what is still
 * there of it (never budget the state no longer holds): the window end (fixed-window), the window
 * index (sliding-window), the log member's time and `seq`uence (sliding-log), the TAT after the
 * charge in µs (token-bucket, gcra), the slot's acquired time and `seq`uence (concurrency).
 * `seq` is 0 but for sliding-log and concurrency.
 */
export interface ChargeHandle {
  readonly value: number;
  readonly seq: number;
}

export interface GiveBack {
  /** Units to return, an integer >= 1 (at most what the charge still holds is credited). */
  readonly units: number;
  readonly handle: ChargeHandle;
}

/** What the store decided for one policy of a request. */
export interface PolicyResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  /** Ms until the same cost passes: 0 if allowed, `null` if it never can. */
  retryAfterMs: number | null;
  /** Set iff this call was charged: what a give-back of it names. */
  charge: ChargeHandle | undefined;
  /** Set on a charged lease take: the units it took. */
  leased?: number;
}

/** What the store decided for one request: admitted iff every non-shadow policy admitted. */
export interface StoreVerdict {
  allowed: boolean;
  /** One per call, in order. */
  results: PolicyResult[];
}

export interface RateLimitStore {
  /** Decides all calls atomically: charges only if every non-shadow call admits. */
  decide(calls: readonly StoreCall[]): Promise<StoreVerdict>;
  /** Deletes the state (and block) keys. */
  reset(keys: readonly string[]): Promise<void>;
  /** False while the store cannot answer right now (for example Redis disconnected). */
  isReady(): boolean;
  /** Set by the engine when metrics are on: the store reports each call's duration to it (`storeCall`). */
  observer?: Pick<RateLimitObserver, 'storeCall'>;
}
