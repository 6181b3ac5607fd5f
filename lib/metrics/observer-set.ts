import type { Logger } from '@nestjs/common';
import { FailureLog } from '../support/failure-log.js';
import type { RateLimitObservedOutcome, RateLimitObservedPolicy, RateLimitObserver, RateLimitStoreFailureReason } from './rate-limit-observer.js';

/**
 * The observers added to one engine, reported to in turn. An observer that throws is logged (once
 * per burst) and never fails the decision, the store call or the other observers.
 */
export class ObserverSet implements RateLimitObserver {
  private readonly observers: RateLimitObserver[] = [];
  private readonly failures: FailureLog;

  constructor(logger: Logger) {
    this.failures = new FailureLog(logger);
  }

  /** Adds an observer and tells it the breaker's state now (it hears of changes from then on). */
  add(observer: RateLimitObserver, circuitOpen: boolean): void {
    this.observers.push(observer);
    try {
      observer.circuitChanged(circuitOpen);
    } catch (error) {
      this.failed(error);
    }
  }

  decision(outcome: RateLimitObservedOutcome, policy: RateLimitObservedPolicy): void {
    for (const observer of this.observers) {
      try {
        observer.decision(outcome, policy);
      } catch (error) {
        this.failed(error);
      }
    }
  }

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
    for (const observer of this.observers) {
      try {
        observer.storeFailure(reason);
      } catch (error) {
        this.failed(error);
      }
    }
  }

  circuitChanged(open: boolean): void {
    for (const observer of this.observers) {
      try {
        observer.circuitChanged(open);
      } catch (error) {
        this.failed(error);
      }
    }
  }

  denyCacheHit(): void {
    for (const observer of this.observers) {
      try {
        observer.denyCacheHit();
      } catch (error) {
        this.failed(error);
      }
    }
  }

  private failed(error: unknown): void {
    this.failures.failed(`a rate limit observer threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}
