import { Inject, Injectable } from '@nestjs/common';
import type { RateLimitDecision } from '../interfaces/rate-limit-decision.interface.js';
import type { RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';
import { RATE_LIMIT_STORE } from '../rate-limit.constants.js';
import { RateLimitEngine } from '../engine/rate-limit-engine.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { RateLimitPolicyRegistry } from '../policy/rate-limit-policy.registry.js';
import type { RateLimitStore } from '../store/rate-limit-store.interface.js';

/**
 * Rate limiting for code outside routes. `key` is a raw tracker value (hashed like route keys);
 * the budget is the policy's `bucket`, or else its `name` — give a route's policy a `bucket` to
 * reach that route's budget here.
 */
@Injectable()
export class RateLimiterService {
  constructor(
    private readonly registry: RateLimitPolicyRegistry,
    private readonly engine: RateLimitEngine,
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
  ) {}

  /** Takes `cost` units if the budget has them. */
  async consume(key: string, policy: RateLimitPolicy, cost = 1): Promise<RateLimitDecision> {
    if (!Number.isInteger(cost) || cost < 0) throw new TypeError(`cost must be an integer >= 0 (got ${cost})`);
    const compiled = this.registry.forService(policy);
    return this.single(compiled, await this.engine.decideKey(key, compiled, cost));
  }

  /** Reads the budget without taking anything. */
  peek(key: string, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    return this.consume(key, policy, 0);
  }

  /** Restores the full budget (and lifts a `blockFor` block). */
  async reset(key: string, policy: RateLimitPolicy): Promise<void> {
    await this.store.reset(this.engine.keysOf(key, this.registry.forService(policy)));
    this.engine.clearDenyCache();
  }

  private single(policy: CompiledPolicy, verdict: RateLimitVerdict): RateLimitDecision {
    if (verdict.decisions.length) return verdict.decisions[0];
    // The store failed: report what the fail mode did, with no budget numbers to give.
    const limit = policy.limit as number;
    return verdict.allowed
      ? { allowed: true, policy: policy.name, limit, remaining: limit, resetMs: 0, retryAfterMs: 0 }
      : { allowed: false, policy: policy.name, limit, remaining: 0, resetMs: 0, retryAfterMs: verdict.unavailableRetryMs ?? null };
  }
}
