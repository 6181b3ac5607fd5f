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
  /** Units to take; 0 peeks; negative refunds. */
  cost: number;
  blockForMs: number;
  shadow: boolean;
}

/** What the store decided for one policy of a request. */
export interface PolicyResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  /** Ms until the same cost passes: 0 if allowed, `null` if it never can. */
  retryAfterMs: number | null;
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
