import type { Logger } from '@nestjs/common';
import type { ObserverSet } from '../metrics/observer-set.js';
import type { RateLimitStore, StoreCall, StoreVerdict } from '../store/rate-limit-store.interface.js';
import { FailureLog } from '../support/failure-log.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { DecisionTimeoutError, withTimeout } from './with-timeout.js';

/** Why the store gave no verdict; the request then follows its fail mode. */
export class StoreUnavailableError extends Error {}

/**
 * One decision's trip to the store: refused at once while the store is not connected or the
 * breaker is open (nothing waits on a reconnecting client), bounded by `timeout`, and counted
 * by the breaker.
 */
export class StoreCaller {
  readonly breaker = new CircuitBreaker();
  /** Store outages, logged once per burst, with a line when decisions go through again. */
  readonly failures: FailureLog;
  private observer: ObserverSet | undefined;

  constructor(
    private readonly store: RateLimitStore,
    private readonly timeoutMs: number,
    logger: Logger,
  ) {
    this.failures = new FailureLog(logger);
  }

  /** Reports failures here, breaker changes and the store's own call durations to `observer`. */
  observe(observer: ObserverSet): void {
    this.observer = observer;
    this.breaker.observer = observer;
    this.store.observer = observer;
  }

  async decide(calls: readonly StoreCall[]): Promise<StoreVerdict> {
    if (!this.store.isReady()) {
      this.observer?.storeFailure('disconnected');
      throw new StoreUnavailableError('the store is not connected');
    }
    if (!this.breaker.allows()) {
      this.observer?.storeFailure('circuit_open');
      throw new StoreUnavailableError('circuit open');
    }
    const sentAt = performance.now();
    try {
      const verdict = await withTimeout(this.store.decide(calls), this.timeoutMs);
      this.breaker.succeeded();
      this.failures.recovered('rate limit decisions go through the store again');
      return verdict;
    } catch (error) {
      this.breaker.failed(sentAt);
      // A call that fails once the client is no longer connected lost its connection.
      this.observer?.storeFailure(error instanceof DecisionTimeoutError ? 'timeout' : this.store.isReady() ? 'error' : 'disconnected');
      throw error;
    }
  }
}
