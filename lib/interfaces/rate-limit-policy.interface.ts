import type { ExecutionContext } from '@nestjs/common';
import type { RateLimitAlgorithm } from '../algorithms/algorithm-table.js';

export type { RateLimitAlgorithm };

/** A duration in ms, or a string such as `'500ms'`, `'30s'`, `'15m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

export type FailMode = 'open' | 'closed' | 'local';
export type EnforcementMode = 'enforce' | 'shadow';
/** How a request ended, for `settle`: the handler's value or error, and whether the client went away first. */
export interface SettleOutcome {
  value?: unknown;
  error?: unknown;
  aborted: boolean;
}

/** The actual cost of a request, known after its handler: an integer >= 0. */
export type Settle = (outcome: SettleOutcome, context: ExecutionContext) => number | Promise<number>;

/** `on-success`: count only failed requests (status >= 400, or thrown); `on-failure`: only successful ones. */
export type RefundMode = 'on-success' | 'on-failure';

/** Resolves a value from the request being decided (tiers, weighted cost). */
export type ContextValue<T> = T | ((context: ExecutionContext) => T | Promise<T>);

/** Tells clients apart; `undefined` or `null` from the module's tracker means the client's address. */
export type Tracker = (context: ExecutionContext) => TrackerValue | Promise<TrackerValue>;
export type TrackerValue = string | undefined | null;

/** `true`: this request is not limited (by the policy, or with the module's option by any policy). */
export type SkipIf = (context: ExecutionContext) => boolean | Promise<boolean>;

export interface RateLimitPolicy {
  algorithm?: RateLimitAlgorithm;
  /** Units per window: an integer >= 1, or a function of the request (tiers). */
  limit?: ContextValue<number>;
  /**
   * A duration, or a function of the request (tiers with their own windows): the resolved
   * window is part of the budget's identity, so a client whose window changes starts afresh.
   */
  window?: ContextValue<Duration>;
  /** Units this request takes, an integer >= 0 (default 1); 0 only reads the budget. */
  cost?: ContextValue<number>;
  /** Capacity of `token-bucket` and `gcra`; defaults to `limit`. */
  burst?: number;
  /** `^[A-Za-z0-9_.-]{1,64}$`; several names on one route are several limits. */
  name?: string;
  /** Shares one budget across every route that names it. */
  bucket?: string;
  /** Tracker of this policy; returning `undefined` falls back to the module's. */
  tracker?: Tracker;
  /** After a denial, deny this key for this long. */
  blockFor?: Duration;
  failMode?: FailMode;
  mode?: EnforcementMode;
  /** A request for which it returns `true` is not limited by this policy. */
  skipIf?: SkipIf;
  /**
   * Gives the charge back after the response: `'on-success'` when the final status is below 400
   * (so only failed requests count, e.g. logins), `'on-failure'` when it is 400 or more, the
   * handler threw or the connection closed first.
   */
  refund?: RefundMode;
  /**
   * The actual cost, known after the handler (LLM tokens used), in every case: a thrown handler
   * or an aborted stream included. `cost` is then a reservation taken before the handler; the
   * difference is given back (lower) or charged as capped debt (higher) after it.
   */
  settle?: Settle;
  /**
   * An integer >= 2, for hot keys (`fixed-window`, `token-bucket`, `gcra`): this instance takes
   * up to `lease` units from Redis in one call and admits locally while they last. A fixed-window
   * lease ends at the window's end or after 1 s, whichever is first, and gives unused units back
   * into its window; a bucket lease ends after 1 s. Not with `blockFor`, `settle`, `refund` or
   * shadow mode.
   */
  lease?: number;
}
