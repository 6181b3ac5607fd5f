import type { ExecutionContext } from '@nestjs/common';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { giveBackOf } from '../store/give-back.js';
import type { ChargeHandle, RateLimitStore, StoreCall } from '../store/rate-limit-store.interface.js';
import type { FailureLog } from '../support/failure-log.js';
import { AfterWork, succeeded, type RequestOutcome } from './after-work.js';

/** One policy's charge of a request: what it charged, the handle, and which store holds it. */
export interface PolicyCharge {
  readonly call: StoreCall;
  readonly handle: ChargeHandle;
  readonly store: RateLimitStore;
}

type Send = (store: RateLimitStore, calls: readonly StoreCall[]) => Promise<unknown>;

/** The concurrency slots one request holds, renewed while it runs. */
interface HeldSlots {
  readonly slots: readonly PolicyCharge[];
  /** `performance.now()` after which the slots have expired by themselves: nothing to release. */
  expiresAt: number;
  readonly renewal: ReturnType<typeof setInterval>;
}

const RELEASE_FIRST_RETRY_MS = 50;

/**
 * The after-work of admitted requests, sent to the store that took each charge (Redis, or the
 * local fallback): settles replace a reservation by the actual cost; refunds give the charge
 * back into what it put there; concurrency slots are
 * released whatever the outcome, and renewed every W/2 while the request runs (a stream), so
 * that only a crashed instance's slots wait for their expiry.
 *
 * A settle or a refund that fails is dropped and logged, never replayed (replaying could return a charge
 * twice). A release that fails is retried while the slot lives: until then it blocks a client.
 */
export class AfterResponse {
  private readonly held = new Set<HeldSlots>();

  constructor(
    /** Through the breaker and the timeout, as decisions go. */
    private readonly send: Send,
    /** With the timeout only: slot releases and renewals go even while the breaker is open. */
    private readonly sendAlways: Send,
    private readonly failures: FailureLog,
  ) {}

  /**
   * The after-work of a request's charges (one per policy, `undefined` where none); `context`
   * is what `settle` functions get (none for `RateLimiterService`, which settles by hand).
   */
  begin(policies: readonly CompiledPolicy[], charges: readonly (PolicyCharge | undefined)[], context: ExecutionContext | undefined): AfterWork {
    const slots: PolicyCharge[] = [];
    let windowMs = Infinity;
    policies.forEach((policy, i) => {
      const charge = charges[i];
      if (charge && policy.spec.kind === 'slots') {
        slots.push(charge);
        windowMs = Math.min(windowMs, charge.call.windowMs);
      }
    });
    let held: HeldSlots | undefined;
    if (slots.length > 0) {
      const renewal = setInterval(() => this.renew(held!), Math.max(1, Math.floor(windowMs / 2)));
      renewal.unref();
      held = { slots, expiresAt: performance.now() + windowMs, renewal };
      this.held.add(held);
    }
    const settles = context !== undefined && policies.some((policy, i) => policy.settle && charges[i]);
    return new AfterWork(settles ? (outcome) => this.settle(policies, charges, outcome, context) : undefined, async (outcome) => {
      this.refund(policies, charges, outcome);
      if (held) await this.release(held, true);
    });
  }

  /**
   * Replaces a reservation by the actual cost: a give-back into what the charge put there when
   * lower, a debt when higher. Never rejects: a failure is logged, and the reservation stands.
   */
  async settleTo(charge: PolicyCharge, actual: number): Promise<void> {
    const diff = actual - charge.call.cost;
    if (diff === 0) return;
    const call = diff < 0 ? giveBackOf(charge.call, -diff, charge.handle) : { ...charge.call, cost: 0, debt: diff };
    await this.send(charge.store, [call]).catch((error: unknown) => this.failures.failed(`rate limit settle dropped: ${message(error)}`));
  }

  /** Runs each settling policy's `settle`; a function that throws or returns no cost leaves its reservation. */
  private async settle(
    policies: readonly CompiledPolicy[],
    charges: readonly (PolicyCharge | undefined)[],
    { value, error, aborted }: RequestOutcome,
    context: ExecutionContext,
  ): Promise<void> {
    await Promise.all(
      policies.map(async (policy, i) => {
        const charge = charges[i];
        if (!policy.settle || !charge) return;
        let actual: unknown;
        try {
          actual = await policy.settle({ value, error, aborted }, context);
        } catch (thrown) {
          this.failures.failed(`policy "${policy.name}" on ${policy.where}: settle threw, the reservation stands: ${message(thrown)}`);
          return;
        }
        if (typeof actual !== 'number' || !Number.isInteger(actual) || actual < 0) {
          this.failures.failed(`policy "${policy.name}" on ${policy.where}: settle returned ${String(actual)}, not an integer >= 0; the reservation stands`);
          return;
        }
        await this.settleTo(charge, actual);
      }),
    );
  }

  /** Releases every slot still held (at shutdown), one attempt each. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((held) => this.release(held, false)));
  }

  private refund(policies: readonly CompiledPolicy[], charges: readonly (PolicyCharge | undefined)[], outcome: RequestOutcome): void {
    const byStore = new Map<RateLimitStore, StoreCall[]>();
    const ok = succeeded(outcome);
    policies.forEach((policy, i) => {
      const charge = charges[i];
      if (!charge || policy.refund === undefined || (policy.refund === 'on-success') !== ok) return;
      add(byStore, charge.store, giveBackOf(charge.call, charge.call.cost, charge.handle));
    });
    for (const [store, calls] of byStore) {
      this.send(store, calls).catch((error: unknown) => this.failures.failed(`rate limit give-back dropped: ${message(error)}`));
    }
  }

  private renew(held: HeldSlots): void {
    const byStore = new Map<RateLimitStore, StoreCall[]>();
    for (const slot of held.slots) add(byStore, slot.store, { ...slot.call, cost: 0, renew: slot.handle });
    const sentAt = performance.now();
    for (const [store, calls] of byStore) {
      this.sendAlways(store, calls).then(
        () => (held.expiresAt = Math.max(held.expiresAt, sentAt + Math.min(...calls.map((c) => c.windowMs)))),
        (error: unknown) => this.failures.failed(`rate limit slot renewal failed: ${message(error)}`),
      );
    }
  }

  private async release(held: HeldSlots, retry: boolean): Promise<void> {
    if (!this.held.delete(held)) return;
    clearInterval(held.renewal);
    const byStore = new Map<RateLimitStore, StoreCall[]>();
    for (const slot of held.slots) add(byStore, slot.store, giveBackOf(slot.call, slot.call.cost, slot.handle));
    await Promise.all([...byStore].map(([store, calls]) => this.releaseIn(store, calls, held, retry)));
  }

  private async releaseIn(store: RateLimitStore, calls: StoreCall[], held: HeldSlots, retry: boolean): Promise<void> {
    for (let wait = RELEASE_FIRST_RETRY_MS; ; wait *= 2) {
      try {
        await this.sendAlways(store, calls);
        return;
      } catch (error) {
        const more = retry && performance.now() + wait < held.expiresAt;
        this.failures.failed(`rate limit slot release failed${more ? ', retrying' : ''}: ${message(error)}`);
        if (!more) return;
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
      }
    }
  }
}

function add(byStore: Map<RateLimitStore, StoreCall[]>, store: RateLimitStore, call: StoreCall): void {
  const calls = byStore.get(store);
  if (calls) calls.push(call);
  else byStore.set(store, [call]);
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
