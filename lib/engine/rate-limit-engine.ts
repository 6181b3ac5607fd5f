import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type ExecutionContext } from '@nestjs/common';
import { RATE_LIMIT_OPTIONS, RATE_LIMIT_STORE } from '../rate-limit.constants.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { blockKey, stateKey } from '../keys/policy-key.js';
import { trackerTag } from '../keys/tracker-tag.js';
import type { RateLimitStore, StoreCall } from '../store/rate-limit-store.interface.js';
import { internalError } from '../contexts/context-errors.js';
import { ClientTracker } from '../tracking/client-tracker.js';
import { FailureLog } from '../support/failure-log.js';
import { ObserverSet } from '../metrics/observer-set.js';
import type { RateLimitObserver } from '../metrics/rate-limit-observer.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { DecisionEvents } from './decision-events.js';
import { DenyCache } from './deny-cache.js';
import { FailModes, strictestFailMode } from './fail-mode.js';
import { RequestValueResolver } from './request-values.js';
import type { Tracker } from '../interfaces/rate-limit-policy.interface.js';
import { chargesOf, toVerdict, type RateLimitVerdict } from './rate-limit-verdict.js';
import { AfterResponse, type PolicyCharge } from './after-response.js';
import { withTimeout } from './with-timeout.js';
import { StoreCaller, StoreUnavailableError } from './store-caller.js';
import { UserFunctionError } from './user-function-error.js';
import { LeaseTable } from './lease-table.js';

/** Denials are cached per policy set, tracker values, resolved limit and cost: all in the calls. */
const denyCacheKey = (calls: readonly StoreCall[]) => {
  let key = '';
  for (const call of calls) key += `${call.key} ${call.limit} ${call.cost}|`;
  return key;
};

/**
 * A decision, step by step: the request's values (trackers, limits, costs: `RequestValueResolver`),
 * a cached denial if there is one (`DenyCache`), the store (`StoreCaller`: readiness, breaker,
 * timeout), the fail mode when the store gives no verdict (`FailModes`), and the events
 * (`DecisionEvents`, and the observers of `addObserver`).
 */
@Injectable()
export class RateLimitEngine implements BeforeApplicationShutdown {
  private readonly logger = new Logger('RateLimit');
  /** Failing `tracker`/`limit`/`cost` functions: the app's errors, logged once per burst. */
  private readonly userFunctionFailures = new FailureLog(this.logger);
  private readonly values: RequestValueResolver;
  private readonly storeCaller: StoreCaller;
  private readonly failModes: FailModes;
  private readonly events: DecisionEvents;
  private readonly denyCache: DenyCache | undefined;
  private observers: ObserverSet | undefined;
  private readonly afterResponse: AfterResponse;
  /** Units of `lease` policies taken by this instance, spent here. */
  private readonly leases: LeaseTable;
  /** The module's `tracker` option; without one, the client's address. */
  readonly moduleTracker: Tracker;

  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
  ) {
    const clientTracker = new ClientTracker(options.ipv6Prefix, this.logger);
    this.moduleTracker = options.tracker ?? clientTracker.of;
    this.values = new RequestValueResolver(options.keyPrefix, clientTracker.of);
    this.storeCaller = new StoreCaller(store, options.timeout, this.logger);
    this.failModes = new FailModes(this.storeCaller.breaker, this.storeCaller.failures);
    this.events = new DecisionEvents(options.onDecision, this.logger);
    const { enabled, max } = options.denyCache;
    this.denyCache = enabled && options.mode !== 'shadow' ? new DenyCache(max) : undefined;
    // Give-backs to Redis pass the breaker and the timeout like decisions (slot releases only
    // the timeout); the local fallback answers in process.
    this.afterResponse = new AfterResponse(
      (target, calls) => (target === store ? this.storeCaller.decide(calls) : target.decide(calls)),
      (target, calls) => {
        if (target !== store) return target.decide(calls);
        return store.isReady() ? withTimeout(store.decide(calls), options.timeout) : Promise.reject(new StoreUnavailableError('the store is not connected'));
      },
      new FailureLog(this.logger),
    );
    this.leases = new LeaseTable((calls) => this.storeCaller.decide(calls), new FailureLog(this.logger));
  }

  /** The circuit breaker in front of the store (the health indicator reports its state). */
  get breaker(): CircuitBreaker {
    return this.storeCaller.breaker;
  }

  /**
   * Reports decisions, store calls, store failures, breaker changes and deny-cache hits to
   * `observer` from now on: the integration point of the `/prometheus` and `/opentelemetry`
   * metrics. Add observers at start-up (`onModuleInit`), before requests arrive.
   */
  addObserver(observer: RateLimitObserver): void {
    if (!this.observers) {
      this.observers = new ObserverSet(this.logger);
      this.events.observe(this.observers);
      this.storeCaller.observe(this.observers);
    }
    this.observers.add(observer, this.breaker.state !== 'closed');
  }

  /** Releases the concurrency slots still held and gives back leased units, before the store closes its connection. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.afterResponse.releaseAll(), this.leases.endAll()]);
  }

  /**
   * Deletes the state of `keys` in the store, and what this instance holds of it: the leases
   * (before, so none is spent meanwhile, and after, so none taken before the reset lands) and the
   * locally cached denials, which the reset may have made wrong.
   */
  async reset(keys: readonly string[]): Promise<void> {
    this.leases.drop(keys);
    try {
      await this.store.reset(keys);
    } finally {
      this.leases.drop(keys);
      this.denyCache?.clear();
    }
  }

  /**
   * Decides a request against its route's policies. A user function that fails raises: an
   * `HttpException` it threw as it is, anything else as the context's internal error.
   */
  async decide(context: ExecutionContext, policies: readonly CompiledPolicy[], tracker = this.moduleTracker): Promise<RateLimitVerdict> {
    const started = performance.now();
    try {
      const request = await this.values.resolve(context, policies, tracker, this.options.skipIf);
      if (request.calls.length === 0) return { allowed: true, policies: request.policies, decisions: [] };
      return await this.execute(request.policies, request.calls, request.trackers, started, context);
    } catch (error) {
      if (!(error instanceof UserFunctionError)) throw error;
      this.userFunctionFailures.failed(`rate limit decision refused with an internal error: ${error.message}`);
      this.events.errored(policies, started);
      throw await internalError(context.getType());
    }
  }

  /**
   * Decides one policy for a raw tracker value (`RateLimiterService`); with `keepCharge` the
   * verdict keeps what it charged (a reservation, settled by hand) even if the policy has no
   * work after the response.
   */
  decideKey(tracker: string, policy: CompiledPolicy, cost: number, keepCharge = false): Promise<RateLimitVerdict> {
    const started = performance.now();
    if (!this.options.enabled) return Promise.resolve({ allowed: true, policies: [policy], decisions: [] });
    if (typeof policy.limit === 'function' || policy.windowOf) {
      throw new TypeError(`RateLimiterService: policy "${policy.name}" needs a numeric limit and window (it has no request to compute them from)`);
    }
    return this.execute([policy], [this.values.call(policy, tracker, policy.limit, cost)], [tracker], started, undefined, keepCharge);
  }

  /** Replaces a reservation kept by `decideKey` by the actual cost (`RateLimiterService`). */
  settleCharge(charge: PolicyCharge, actual: number): Promise<void> {
    return this.afterResponse.settleTo(charge, actual);
  }

  /** The keys holding a tracker's state under a policy. */
  keysOf(tracker: string, policy: CompiledPolicy): string[] {
    const key = stateKey(this.options.keyPrefix, trackerTag(tracker), policy.id);
    return [key, blockKey(key)];
  }

  private async execute(
    policies: readonly CompiledPolicy[],
    calls: StoreCall[],
    trackers: string[],
    started: number,
    context: ExecutionContext | undefined,
    keepCharge = false,
  ): Promise<RateLimitVerdict> {
    // A request of leased policies only is admitted here while the leases hold its cost.
    const leased = !keepCharge && LeaseTable.covers(policies, calls);
    if (leased) {
      // Now, not `started`: the request values may have taken a while, and a lease ends on time.
      const spent = this.leases.spend(calls, performance.now());
      if (spent) {
        const verdict = toVerdict(policies, calls, spent);
        this.events.decided(verdict, trackers, started);
        return verdict;
      }
    }
    // Concurrency denials end when a request finishes, which no retry time tells: never cached.
    const denyCache = this.denyCache && !policies.some((p) => p.shadow || p.spec.kind === 'slots') ? this.denyCache : undefined;
    // The key is only built when there is a cached denial to look up, or a new one to keep.
    if (denyCache && denyCache.size > 0) {
      const cached = denyCache.get(denyCacheKey(calls), started);
      if (cached) {
        this.observers?.denyCacheHit();
        this.events.decided(cached, trackers, started);
        return cached;
      }
    }
    let verdict: RateLimitVerdict;
    let charges: Array<PolicyCharge | undefined> | undefined;
    try {
      const decided = leased ? await this.leases.refill(policies, calls) : await this.storeCaller.decide(calls);
      verdict = toVerdict(policies, calls, decided);
      charges = chargesOf(policies, calls, decided, this.store, keepCharge);
    } catch (error) {
      const mode = strictestFailMode(policies);
      const failed = await this.failModes.verdict(policies, calls, error, mode, keepCharge);
      this.events.failed(failed.verdict, trackers, started, mode);
      return this.withAfterWork(failed.verdict, failed.charges, context);
    }
    if (denyCache && !verdict.allowed) denyCache.set(denyCacheKey(calls), verdict, started);
    this.events.decided(verdict, trackers, started);
    return this.withAfterWork(verdict, charges, context);
  }

  /** The verdict with the work its charges leave for after the response, if any. */
  private withAfterWork(verdict: RateLimitVerdict, charges: Array<PolicyCharge | undefined> | undefined, context: ExecutionContext | undefined): RateLimitVerdict {
    if (!charges) return verdict;
    return { ...verdict, charges, after: this.afterResponse.begin(verdict.policies, charges, context) };
  }
}
