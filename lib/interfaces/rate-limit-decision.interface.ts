export interface RateLimitDecision {
  allowed: boolean;
  policy: string;
  limit: number;
  /** Units admissible now, after this decision. */
  remaining: number;
  /** Ms until `remaining` is back to full capacity. */
  resetMs: number;
  /** Least wait after which the same cost passes: 0 if allowed, `null` if it never can. */
  retryAfterMs: number | null;
}

/** `failed`: the store gave no verdict (see `failMode`); `error`: the request's own `tracker`, `limit` or `cost` function failed. */
export type RateLimitOutcome = 'allowed' | 'denied' | 'failed' | 'error';

export interface RateLimitEvent {
  outcome: RateLimitOutcome;
  policy: string;
  /** SHA-256-derived tag of the tracker value; never the raw value. Empty for `error`. */
  key: string;
  latencyMs: number;
  decision?: RateLimitDecision;
  /** Set when `outcome` is `failed`: how the request was then handled. */
  failMode?: 'open' | 'closed' | 'local';
  shadow: boolean;
}
