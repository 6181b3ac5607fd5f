import type { Logger } from '@nestjs/common';
import type { RateLimitDecision, RateLimitEvent, RateLimitOutcome } from '../interfaces/rate-limit-decision.interface.js';
import type { FailMode } from '../interfaces/rate-limit-policy.interface.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { hashTracker } from '../keys/tracker-tag.js';
import { FailureLog } from '../support/failure-log.js';
import type { RateLimitVerdict } from './rate-limit-verdict.js';

type Listener = (event: RateLimitEvent) => void;

/** Reports each policy of each decision to `onDecision`: nothing is built when no one listens. */
export class DecisionEvents {
  private readonly listenerFailures: FailureLog;

  constructor(
    private readonly listener: Listener | undefined,
    logger: Logger,
  ) {
    this.listenerFailures = new FailureLog(logger);
  }

  get enabled(): boolean {
    return this.listener !== undefined;
  }

  /** One event per policy of a verdict the store (or the deny cache) gave. */
  decided(verdict: RateLimitVerdict, trackers: readonly string[], started: number): void {
    if (!this.listener) return;
    verdict.decisions.forEach((decision, i) =>
      this.emit(decision.allowed ? 'allowed' : 'denied', verdict.policies[i], trackers[i], started, decision, undefined),
    );
  }

  /** One event per policy of a request the store could not decide, with what the fail mode did. */
  failed(verdict: RateLimitVerdict, trackers: readonly string[], started: number, mode: FailMode): void {
    if (!this.listener) return;
    verdict.policies.forEach((policy, i) => this.emit('failed', policy, trackers[i], started, verdict.decisions[i], mode));
  }

  /** One event per policy of a request whose own functions failed (nothing was decided). */
  errored(policies: readonly CompiledPolicy[], started: number): void {
    if (!this.listener) return;
    for (const policy of policies) this.emit('error', policy, undefined, started, undefined, undefined);
  }

  private emit(
    outcome: RateLimitOutcome,
    policy: CompiledPolicy,
    tracker: string | undefined,
    started: number,
    decision: RateLimitDecision | undefined,
    failMode: FailMode | undefined,
  ): void {
    try {
      this.listener!({
        outcome,
        policy: policy.name,
        key: tracker === undefined ? '' : hashTracker(tracker),
        latencyMs: performance.now() - started,
        decision,
        failMode,
        shadow: policy.shadow,
      });
    } catch (error) {
      this.listenerFailures.failed(`onDecision threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
