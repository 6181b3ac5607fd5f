import { Injectable } from '@nestjs/common';
import type { RateLimitDecision } from '../interfaces/rate-limit-decision.interface.js';
import type { RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';
import { RateLimitEngine } from '../engine/rate-limit-engine.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { RateLimitPolicyRegistry } from '../policy/rate-limit-policy.registry.js';

/** Units reserved by `RateLimiterService.reserve()`, to settle once the actual cost is known. */
export interface RateLimitReservation extends RateLimitDecision {
  /**
   * Replaces the reservation by the actual cost (an integer >= 0): what is left over is given
   * back, what is over is charged as debt (capped at one capacity). Once; later calls do nothing.
   */
  settle(actual: number): Promise<void>;
  /** Gives the whole reservation back (as `settle(0)`). */
  cancel(): Promise<void>;
}

/** A concurrency slot taken by `RateLimiterService.acquire()`: the decision, and how to give the slot back. */
export interface RateLimitSlot extends RateLimitDecision {
  /** Releases the slot (once; later calls do nothing). Resolves when the store has it. */
  release(): Promise<void>;
}

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
  ) {}

  /** Takes `cost` units if the budget has them. */
  async consume(key: string, policy: RateLimitPolicy, cost = 1): Promise<RateLimitDecision> {
    if (!Number.isInteger(cost) || cost < 0) throw new TypeError(`cost must be an integer >= 0 (got ${cost})`);
    const compiled = this.registry.forService(policy);
    if (compiled.spec.kind === 'slots' && cost > 0) {
      throw new TypeError(`RateLimiterService: policy "${compiled.name}" is a concurrency policy; take a slot with acquire(), which gives a release()`);
    }
    return this.single(compiled, await this.engine.decideKey(key, compiled, cost));
  }

  /** Reads the budget without taking anything. */
  peek(key: string, policy: RateLimitPolicy): Promise<RateLimitDecision> {
    return this.consume(key, policy, 0);
  }

  /**
   * Reserves `cost` units if the budget has them, to `settle()` with the actual cost when it is
   * known (or `cancel()`). A denied or fail-open reservation charged nothing and settles nothing.
   */
  async reserve(key: string, policy: RateLimitPolicy, cost: number): Promise<RateLimitReservation> {
    if (!Number.isInteger(cost) || cost < 0) throw new TypeError(`cost must be an integer >= 0 (got ${cost})`);
    const compiled = this.registry.forService(policy);
    if (compiled.spec.kind === 'slots') throw new TypeError(`RateLimiterService: policy "${compiled.name}" is a concurrency policy; use acquire()`);
    const verdict = await this.engine.decideKey(key, compiled, cost, true);
    const charge = verdict.charges?.[0];
    let settled = false;
    const settle = (actual: number) => {
      if (!Number.isInteger(actual) || actual < 0) return Promise.reject(new TypeError(`actual cost must be an integer >= 0 (got ${actual})`));
      if (settled || !charge) return Promise.resolve();
      settled = true;
      return this.engine.settleCharge(charge, actual);
    };
    return { ...this.single(compiled, verdict), settle, cancel: () => settle(0) };
  }

  /**
   * Takes a slot of a `concurrency` policy if one is free. Call `release()` when the work is
   * done (in a `finally`): until then the slot counts, renewed every W/2, and a slot of a
   * process that died expires after `window`. `release()` of a denied slot does nothing.
   */
  async acquire(key: string, policy: RateLimitPolicy): Promise<RateLimitSlot> {
    const compiled = this.registry.forService(policy);
    if (compiled.spec.kind !== 'slots') {
      throw new TypeError(`RateLimiterService: acquire() takes a concurrency policy; policy "${compiled.name}" is '${compiled.algorithm}' (use consume())`);
    }
    const verdict = await this.engine.decideKey(key, compiled, 1);
    const { after } = verdict;
    return { ...this.single(compiled, verdict), release: () => after?.finish({ aborted: false }) ?? Promise.resolve() };
  }

  /** Restores the full budget (and lifts a `blockFor` block). */
  async reset(key: string, policy: RateLimitPolicy): Promise<void> {
    await this.engine.reset(this.engine.keysOf(key, this.registry.forService(policy)));
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
