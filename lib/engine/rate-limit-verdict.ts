import type { RateLimitDecision } from '../interfaces/rate-limit-decision.interface.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import type { RateLimitStore, StoreCall, StoreVerdict } from '../store/rate-limit-store.interface.js';
import type { PolicyCharge } from './after-response.js';
import type { AfterWork } from './after-work.js';

/** The outcome of one request's decision, kept for the request by the guard. */
export interface RateLimitVerdict {
  readonly allowed: boolean;
  readonly policies: readonly CompiledPolicy[];
  /** One per policy, in order; empty when the store failed and the request was let through. */
  readonly decisions: readonly RateLimitDecision[];
  /** The store calls the decisions were made for (their resolved windows), when there are decisions. */
  readonly calls?: readonly StoreCall[];
  /** Set when the store failed under `failMode: 'closed'`: ms until it is tried again. */
  readonly unavailableRetryMs?: number;
  /** Set on an admitted request that charged a policy with work after the response (`settle`, `refund`, a slot). */
  readonly after?: AfterWork;
  /** With `after`: what each policy charged, and where. */
  readonly charges?: readonly (PolicyCharge | undefined)[];
}

/** A store's verdict in the public shape: each result named by its policy, with the limit it was decided under. */
export function toVerdict(policies: readonly CompiledPolicy[], calls: readonly StoreCall[], store: StoreVerdict): RateLimitVerdict {
  const decisions: RateLimitDecision[] = new Array(policies.length);
  for (let i = 0; i < policies.length; i++) {
    const { allowed, remaining, resetMs, retryAfterMs } = store.results[i];
    decisions[i] = { allowed, policy: policies[i].name, limit: calls[i].limit, remaining, resetMs, retryAfterMs };
  }
  return { allowed: store.allowed, policies, decisions, calls };
}

/**
 * What each policy of an admitted request charged, and where, for the after-work of the
 * policies that have some; `undefined` when there is nothing to do after the response.
 */
export function chargesOf(
  policies: readonly CompiledPolicy[],
  calls: readonly StoreCall[],
  verdict: StoreVerdict,
  store: RateLimitStore,
  /** Every charge, whether or not its policy has work after the response (a reservation of `RateLimiterService`). */
  all = false,
): Array<PolicyCharge | undefined> | undefined {
  if (!verdict.allowed) return undefined;
  let charges: Array<PolicyCharge | undefined> | undefined;
  for (let i = 0; i < policies.length; i++) {
    const handle = verdict.results[i].charge;
    if ((!all && !policies[i].afterWork) || !handle) continue;
    charges ??= new Array(policies.length);
    charges[i] = { call: calls[i], handle, store };
  }
  return charges;
}
