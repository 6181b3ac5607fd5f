import type { RateLimitObserver } from '../metrics/rate-limit-observer.js';

/**
 * Stops calling a failing store for a cool-down after `threshold` consecutive failures, then
 * lets one probe through; a success closes it again, a failure re-opens it.
 *
 * A failed call that was sent before the last counted failure was seen counts as that same
 * failure: one stall of Redis, or one lost connection, fails every call in flight at once (a
 * whole batch of them), and that is one failure, not `threshold` of them.
 */
export class CircuitBreaker {
  private failures = 0;
  private lastCountedSeenAt = -Infinity;
  private openUntil = 0;
  private probing = false;
  /** Told when the breaker trips and when a probe closes it again (half-open counts as open). */
  observer: Pick<RateLimitObserver, 'circuitChanged'> | undefined;

  constructor(
    private readonly threshold = 5,
    private readonly coolDownMs = 2_000,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return performance.now() < this.openUntil ? 'open' : 'half-open';
  }

  /** Whether a call may go to the store now (a half-open breaker admits one probe at a time). */
  allows(): boolean {
    if (this.failures < this.threshold) return true;
    if (performance.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  succeeded(): void {
    if (this.failures >= this.threshold) this.observer?.circuitChanged(false);
    this.failures = 0;
    this.lastCountedSeenAt = -Infinity;
    this.probing = false;
  }

  /** A call sent at `sentAt` (`performance.now()` time) failed. */
  failed(sentAt = performance.now()): void {
    this.probing = false;
    if (sentAt < this.lastCountedSeenAt) return;
    const now = performance.now();
    this.lastCountedSeenAt = now;
    this.failures++;
    if (this.failures >= this.threshold) this.openUntil = now + this.coolDownMs;
    if (this.failures === this.threshold) this.observer?.circuitChanged(true);
  }

  /** Ms until the next probe, at least 1 s: the `Retry-After` of a fail-closed 503. */
  retryAfterMs(): number {
    return Math.max(1000, this.openUntil - performance.now());
  }
}
