import type { Logger } from '@nestjs/common';

/**
 * Logs the first failure of a burst, then at most one summary per interval: never once per
 * request. `recovered()` ends the burst: it reports the failures not yet reported (if any), and
 * the next failure is logged at once as the start of a new burst.
 */
export class FailureLog {
  private suppressed = 0;
  private lastLoggedAt = -Infinity;
  private inBurst = false;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  failed(message: string): void {
    this.inBurst = true;
    const now = performance.now();
    if (now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed ? ` (${this.suppressed} more failures since the last report)` : '';
    this.logger.error(`${message}${more}`);
    this.suppressed = 0;
    this.lastLoggedAt = now;
  }

  /** Cheap when nothing failed: call it after every success. */
  recovered(message: string): void {
    if (!this.inBurst) return;
    const more = this.suppressed ? ` (${this.suppressed} more failures since the last report)` : '';
    this.logger.log(`${message}${more}`);
    this.inBurst = false;
    this.suppressed = 0;
    this.lastLoggedAt = -Infinity;
  }
}
