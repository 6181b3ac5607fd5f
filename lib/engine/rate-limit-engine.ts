import { Inject, Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import type { RateLimitDecision, RateLimitOutcome } from '../interfaces/rate-limit-decision.interface.js';
import type { FailMode } from '../interfaces/rate-limit-policy.interface.js';
import { RATE_LIMIT_OPTIONS, RATE_LIMIT_STORE } from '../rate-limit.constants.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { checkLimitRange } from '../policy/limit-range.js';
import { blockKey, stateKey } from '../keys/policy-key.js';
import { hashTracker, trackerTag } from '../keys/tracker-tag.js';
import { MemoryRateLimitStore } from '../store/memory/memory-rate-limit-store.js';
import type { RateLimitStore, StoreCall, StoreReply } from '../store/rate-limit-store.interface.js';
import { httpRequest } from '../guards/http-exchange.js';
import { socketAddress } from '../tracking/socket-address.js';
import { ClientIpNormalizer } from '../tracking/client-ip-normalizer.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { DenyCache } from './deny-cache.js';
import { FailureLog } from './failure-log.js';
import type { RateLimitVerdict } from './rate-limit-verdict.js';
import { withTimeout } from './with-timeout.js';

const FAIL_MODE_STRICTNESS: Record<FailMode, number> = { open: 0, local: 1, closed: 2 };

class InvalidRequestValue extends Error {}

/** Denials are cached per policy set, tracker values, resolved limit and cost: all in the calls. */
const denyCacheKey = (calls: readonly StoreCall[]) => {
  let key = '';
  for (const call of calls) key += `${call.key} ${call.limit} ${call.cost}|`;
  return key;
};

/** Turns policies plus a request (or a raw key) into one store call and a verdict. */
@Injectable()
export class RateLimitEngine {
  private readonly logger = new Logger('RateLimit');
  /** Store outages, and separately bad request values and `onDecision` errors: each logged once per burst. */
  private readonly storeFailures = new FailureLog(this.logger);
  private readonly callerFailures = new FailureLog(this.logger);
  private warnedUnknownIp = false;
  private readonly clientIps: ClientIpNormalizer;
  readonly breaker = new CircuitBreaker();
  private readonly denyCache: DenyCache | undefined;
  private local: MemoryRateLimitStore | undefined;

  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
  ) {
    this.clientIps = new ClientIpNormalizer(options.ipv6Prefix);
    const { enabled, max } = options.denyCache;
    this.denyCache = enabled && options.mode !== 'shadow' ? new DenyCache(max) : undefined;
  }

  /** Forgets locally cached denials (after a reset, which may have made them wrong). */
  clearDenyCache(): void {
    this.denyCache?.clear();
  }

  /** Decides a request against its route's policies. */
  async decide(context: ExecutionContext, policies: readonly CompiledPolicy[]): Promise<RateLimitVerdict> {
    const started = performance.now();
    let calls: StoreCall[];
    let trackers: string[];
    try {
      trackers = await this.trackersOf(context, policies);
      calls = new Array(policies.length);
      for (let i = 0; i < policies.length; i++) {
        const policy = policies[i];
        const limit = typeof policy.limit === 'function' ? await policy.limit(context) : policy.limit;
        const cost = typeof policy.cost === 'function' ? await policy.cost(context) : policy.cost;
        calls[i] = this.call(policy, trackers[i], limit, cost);
      }
    } catch (error) {
      return this.failed(policies, undefined, [], error, started);
    }
    return this.execute(policies, calls, trackers, started);
  }

  /** Decides one policy for a raw tracker value (`RateLimiterService`). */
  decideKey(tracker: string, policy: CompiledPolicy, cost: number): Promise<RateLimitVerdict> {
    const started = performance.now();
    if (typeof policy.limit === 'function') {
      throw new TypeError(`RateLimiterService: policy "${policy.name}" needs a numeric limit (it has no request to compute one from)`);
    }
    return this.execute([policy], [this.call(policy, tracker, policy.limit, cost)], [tracker], started);
  }

  /** The keys holding a tracker's state under a policy. */
  keysOf(tracker: string, policy: CompiledPolicy): string[] {
    const key = stateKey(this.options.keyPrefix, trackerTag(tracker), policy.id);
    return [key, blockKey(key)];
  }

  private call(policy: CompiledPolicy, tracker: string, limit: unknown, cost: unknown): StoreCall {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
      throw new InvalidRequestValue(`policy "${policy.name}" on ${policy.where}: limit function returned ${String(limit)}, not an integer >= 1`);
    }
    if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 0) {
      throw new InvalidRequestValue(`policy "${policy.name}" on ${policy.where}: cost returned ${String(cost)}, not an integer >= 0`);
    }
    const burst = policy.burst ?? limit;
    // A static limit was range-checked at start-up; only a computed one needs it here.
    if (typeof policy.limit === 'function') {
      const range = checkLimitRange(policy.code, limit, policy.windowMs, burst);
      if (range) throw new InvalidRequestValue(`policy "${policy.name}" on ${policy.where}: limit ${limit} ${range}`);
    }
    const key = stateKey(this.options.keyPrefix, trackerTag(tracker), policy.id);
    return {
      key,
      blockKey: policy.blockForMs > 0 ? blockKey(key) : undefined,
      algorithm: policy.code,
      limit,
      windowMs: policy.windowMs,
      burst,
      cost,
      blockForMs: policy.blockForMs,
      shadow: policy.shadow,
    };
  }

  private async execute(
    policies: readonly CompiledPolicy[],
    calls: StoreCall[],
    trackers: string[],
    started: number,
  ): Promise<RateLimitVerdict> {
    const denyCache = this.denyCache && !policies.some((p) => p.shadow) ? this.denyCache : undefined;
    // The key is only built when there is a cached denial to look up, or a new one to keep.
    if (denyCache && denyCache.size > 0) {
      const cached = denyCache.get(denyCacheKey(calls), started);
      if (cached) return this.observed(cached, trackers, started);
    }
    if (!this.store.isReady()) {
      return this.failed(policies, calls, trackers, new Error('the store is not connected'), started);
    }
    if (!this.breaker.allows()) {
      return this.failed(policies, calls, trackers, undefined, started);
    }
    let reply: StoreReply;
    const sentAt = performance.now();
    try {
      reply = await withTimeout(this.store.decide(calls), this.options.timeout);
      this.breaker.succeeded();
      this.storeFailures.recovered('rate limit decisions go through the store again');
    } catch (error) {
      this.breaker.failed(sentAt);
      return this.failed(policies, calls, trackers, error, started);
    }
    const verdict = this.verdict(policies, calls, reply);
    if (denyCache && !verdict.allowed) denyCache.set(denyCacheKey(calls), verdict, started);
    return this.observed(verdict, trackers, started);
  }

  private verdict(policies: readonly CompiledPolicy[], calls: readonly StoreCall[], reply: StoreReply): RateLimitVerdict {
    const decisions: RateLimitDecision[] = new Array(policies.length);
    for (let i = 0, r = 1; i < policies.length; i++, r += 4) {
      const retry = reply[r + 3];
      decisions[i] = {
        allowed: reply[r] === 1,
        policy: policies[i].name,
        limit: calls[i].limit,
        remaining: reply[r + 1],
        resetMs: reply[r + 2],
        retryAfterMs: retry === -1 ? null : retry,
      };
    }
    return { allowed: reply[0] === 1, policies, decisions };
  }

  /** Reports a verdict to `onDecision`, one event per policy. */
  private observed(verdict: RateLimitVerdict, trackers: readonly string[], started: number): RateLimitVerdict {
    if (this.options.onDecision) {
      verdict.decisions.forEach((decision, i) =>
        this.emit(decision.allowed ? 'allowed' : 'denied', verdict.policies[i], trackers[i], started, decision, undefined),
      );
    }
    return verdict;
  }

  private async failed(
    policies: readonly CompiledPolicy[],
    calls: readonly StoreCall[] | undefined,
    trackers: readonly string[],
    error: unknown,
    started: number,
  ): Promise<RateLimitVerdict> {
    const mode = policies.reduce<FailMode>(
      (strictest, p) => (FAIL_MODE_STRICTNESS[p.failMode] > FAIL_MODE_STRICTNESS[strictest] ? p.failMode : strictest),
      'open',
    );
    const reason = error instanceof InvalidRequestValue
      ? error.message
      : `store unavailable${error ? `: ${error instanceof Error ? error.message : String(error)}` : ' (circuit open)'}`;
    const log = error instanceof InvalidRequestValue ? this.callerFailures : this.storeFailures;
    log.failed(`rate limit decision failed, failing ${mode}: ${reason}`);
    let verdict: RateLimitVerdict;
    if (mode === 'local' && calls) {
      // The in-process limiter has the same semantics; its budget is this instance's alone.
      verdict = this.verdict(policies, calls, await (this.local ??= new MemoryRateLimitStore()).decide(calls));
    } else if (mode === 'closed') {
      verdict = { allowed: false, policies, decisions: [], unavailableRetryMs: this.breaker.retryAfterMs() };
    } else {
      verdict = { allowed: true, policies, decisions: [] };
    }
    for (let i = 0; i < policies.length; i++) this.emit('failed', policies[i], trackers[i], started, verdict.decisions[i], mode);
    return verdict;
  }

  private emit(
    outcome: RateLimitOutcome,
    policy: CompiledPolicy,
    tracker: string | undefined,
    started: number,
    decision: RateLimitDecision | undefined,
    failMode: FailMode | undefined,
  ): void {
    const onDecision = this.options.onDecision;
    if (!onDecision) return;
    try {
      onDecision({
        outcome,
        policy: policy.name,
        key: tracker === undefined ? '' : hashTracker(tracker),
        latencyMs: performance.now() - started,
        decision,
        failMode,
        shadow: policy.shadow,
      });
    } catch (error) {
      this.callerFailures.failed(`onDecision threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async trackersOf(context: ExecutionContext, policies: readonly CompiledPolicy[]): Promise<string[]> {
    const trackers: string[] = new Array(policies.length);
    let moduleTracker: string | undefined;
    for (let i = 0; i < policies.length; i++) {
      const own = policies[i].tracker ? await policies[i].tracker!(context) : undefined;
      let value = own;
      if (value === undefined) {
        if (moduleTracker === undefined) {
          const resolved = this.moduleTracker(context);
          moduleTracker = typeof resolved === 'string' ? resolved : await resolved;
        }
        value = moduleTracker;
      }
      if (typeof value !== 'string' || value.length === 0) {
        throw new InvalidRequestValue(`tracker of policy "${policies[i].name}" on ${policies[i].where} returned ${String(value)}, not a non-empty string`);
      }
      trackers[i] = value;
    }
    return trackers;
  }

  /** The module's tracker; the default (client IP) answers synchronously, sparing the hot path a tick. */
  private moduleTracker(context: ExecutionContext): string | Promise<string> {
    if (this.options.tracker) return this.options.tracker(context);
    const ip = context.getType() === 'ws'
      ? socketAddress(context.switchToWs().getClient())
      : (httpRequest(context)?.ip as string | undefined);
    if (ip) return this.clientIps.normalize(ip);
    if (!this.warnedUnknownIp) {
      this.warnedUnknownIp = true;
      this.logger.warn("a request has no client IP (microservice messages have none); it is tracked as 'unknown': set a tracker to key it otherwise");
    }
    return 'unknown';
  }
}
