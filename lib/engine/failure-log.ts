import type { Logger } from '@nestjs/common';

/** Logs the first failure of a burst, then one summary per interval: never once per request. */
export class FailureLog {
  private suppressed = 0;
  private lastLoggedAt = -Infinity;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  failed(message: string): void {
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
}
