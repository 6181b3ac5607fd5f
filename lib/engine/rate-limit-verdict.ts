import type { RateLimitDecision } from '../interfaces/rate-limit-decision.interface.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';

/** The outcome of one request's decision, kept on the request for the header writer. */
export interface RateLimitVerdict {
  readonly allowed: boolean;
  readonly policies: readonly CompiledPolicy[];
  /** One per policy, in order; empty when the store failed and the request was let through. */
  readonly decisions: readonly RateLimitDecision[];
  /** Set when the store failed under `failMode: 'closed'`: ms until it is tried again. */
  readonly unavailableRetryMs?: number;
}
