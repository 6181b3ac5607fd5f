import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { giveBackOf } from '../store/give-back.js';
import type { ChargeHandle, RateLimitStore, StoreCall } from '../store/rate-limit-store.interface.js';
import type { FailureLog } from '../support/failure-log.js';
import { succeeded, type RequestOutcome } from './after-work.js';

/** One policy's charge of a request: what it charged, the handle, and which store holds it. */
export interface PolicyCharge {
  readonly call: StoreCall;
  readonly handle: ChargeHandle;
  readonly store: RateLimitStore;
}

type Send = (store: RateLimitStore, calls: readonly StoreCall[]) => Promise<unknown>;

/**
 * The after-work of admitted requests: gives charges back to the store that took them (Redis,
 * or the local fallback), into what each charge put there. A give-back that fails is dropped
 * and logged, never replayed: replaying could return a charge twice.
 */
export class AfterResponse {
  constructor(
    private readonly send: Send,
    private readonly failures: FailureLog,
  ) {}

  run(policies: readonly CompiledPolicy[], charges: readonly (PolicyCharge | undefined)[], outcome: RequestOutcome): void {
    const byStore = new Map<RateLimitStore, StoreCall[]>();
    const ok = succeeded(outcome);
    policies.forEach((policy, i) => {
      const charge = charges[i];
      if (!charge || policy.refund === undefined || (policy.refund === 'on-success') !== ok) return;
      const calls = byStore.get(charge.store) ?? [];
      calls.push(giveBackOf(charge.call, charge.call.cost, charge.handle));
      byStore.set(charge.store, calls);
    });
    for (const [store, calls] of byStore) {
      this.send(store, calls).catch((error: unknown) =>
        this.failures.failed(`rate limit give-back dropped: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }
}
