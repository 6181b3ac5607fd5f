import type { Logger } from '@nestjs/common';
import { FailureLog } from '../support/failure-log.js';
import type { RateLimitObservedOutcome, RateLimitObservedPolicy, RateLimitObserver, RateLimitStoreFailureReason } from './rate-limit-observer.js';

/** A policy's decisions not yet reported, by outcome. */
interface PendingDecisions {
  readonly policy: RateLimitObservedPolicy;
  readonly counts: Record<RateLimitObservedOutcome, number>;
  queued: boolean;
}

const OUTCOMES: readonly RateLimitObservedOutcome[] = ['allowed', 'denied', 'failed', 'shadow_denied', 'error'];

/**
 * The observers added to one engine. Decisions and deny-cache hits are counted here as plain
 * numbers and reported once per event-loop turn (`setImmediate`, after the turn's I/O callbacks):
 * a metrics library hashes labels and takes locks of its own on every update, which per request
 * cost 1–6 µs against a decision's ~8 µs. An observer that throws is logged (once per burst) and
 * never fails a decision, a store call or the other observers.
 */
export class ObserverSet {
  private readonly observers: RateLimitObserver[] = [];
  private readonly failures: FailureLog;
  private readonly pendingOf = new WeakMap<RateLimitObservedPolicy, PendingDecisions>();
  private queue: PendingDecisions[] = [];
  private denyCacheHits = 0;
  private scheduled = false;

  constructor(logger: Logger) {
    this.failures = new FailureLog(logger);
  }

  /** Adds an observer and tells it the breaker's state now (it hears of changes from then on). */
  add(observer: RateLimitObserver, circuitOpen: boolean): void {
    this.observers.push(observer);
    this.each((o) => o.circuitChanged(circuitOpen));
  }

  decision(outcome: RateLimitObservedOutcome, policy: RateLimitObservedPolicy): void {
    let pending = this.pendingOf.get(policy);
    if (!pending) {
      pending = { policy, counts: { allowed: 0, denied: 0, failed: 0, shadow_denied: 0, error: 0 }, queued: false };
      this.pendingOf.set(policy, pending);
    }
    pending.counts[outcome]++;
    if (!pending.queued) {
      pending.queued = true;
      this.queue.push(pending);
    }
    this.schedule();
  }

  denyCacheHit(): void {
    this.denyCacheHits++;
    this.schedule();
  }

  /** Once per store call: a plain loop (no closure), as a memory store makes one call per decision. */
  storeCall(seconds: number): void {
    for (const observer of this.observers) {
      try {
        observer.storeCall(seconds);
      } catch (error) {
        this.failed(error);
      }
    }
  }

  storeFailure(reason: RateLimitStoreFailureReason): void {
    this.each((o) => o.storeFailure(reason));
  }

  circuitChanged(open: boolean): void {
    this.each((o) => o.circuitChanged(open));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.report);
  }

  private readonly report = (): void => {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (const pending of queue) {
      pending.queued = false;
      for (const outcome of OUTCOMES) {
        const count = pending.counts[outcome];
        if (count === 0) continue;
        pending.counts[outcome] = 0;
        this.each((o) => o.decisions(outcome, pending.policy, count));
      }
    }
    const hits = this.denyCacheHits;
    this.denyCacheHits = 0;
    if (hits > 0) this.each((o) => o.denyCacheHits(hits));
  };

  private each(report: (observer: RateLimitObserver) => void): void {
    for (const observer of this.observers) {
      try {
        report(observer);
      } catch (error) {
        this.failed(error);
      }
    }
  }

  private failed(error: unknown): void {
    this.failures.failed(`a rate limit observer threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}
