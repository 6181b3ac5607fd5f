/** Algorithm codes shared with the Lua script (`lua/decide.lua`). */
export const ALGORITHM_CODES = {
  'fixed-window': 1,
  'sliding-window': 2,
  'sliding-log': 3,
  'token-bucket': 4,
  gcra: 5,
} as const;

export type AlgorithmCode = (typeof ALGORITHM_CODES)[keyof typeof ALGORITHM_CODES];

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

/**
 * The reply of `decide`, flat and integer-only exactly as the Lua script returns it:
 * `[allowed, ...per call: allowed, remaining, resetMs, retryAfterMs]`, retryAfterMs -1 meaning never.
 */
export type StoreReply = number[];

export interface RateLimitStore {
  /** Decides all calls atomically: charges only if every non-shadow call admits. */
  decide(calls: readonly StoreCall[], nowUs?: number): Promise<StoreReply>;
  /** Deletes the state (and block) keys. */
  reset(keys: readonly string[]): Promise<void>;
  /** False while the store cannot answer right now (for example Redis disconnected). */
  isReady(): boolean;
}
