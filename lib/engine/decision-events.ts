import type { Logger } from '@nestjs/common';
import type { RateLimitDecision, RateLimitEvent, RateLimitOutcome } from '../interfaces/rate-limit-decision.interface.js';
import type { FailMode } from '../interfaces/rate-limit-policy.interface.js';
import type { ObserverSet } from '../metrics/observer-set.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { hashTracker } from '../keys/tracker-tag.js';
import { FailureLog } from '../support/failure-log.js';
import type { RateLimitVerdict } from './rate-limit-verdict.js';

type Listener = (event: RateLimitEvent) => void;

/**
 * Reports each policy of each decision to `onDecision` and to the observers (metrics): nothing is
 * built when no one listens.
 */
export class DecisionEvents {
  private readonly listenerFailures: FailureLog;
  private observer: ObserverSet | undefined;
  /** Whether anyone listens: the one check a decision pays when no one does. */
  private active: boolean;

  constructor(
    private readonly listener: Listener | undefined,
    logger: Logger,
  ) {
    this.listenerFailures = new FailureLog(logger);
    this.active = listener !== undefined;
  }

  observe(observer: ObserverSet): void {
    this.observer = observer;
    this.active = true;
  }

  /** One event per policy of a verdict the store (or the deny cache) gave. */
  decided(verdict: RateLimitVerdict, trackers: readonly string[], started: number): void {
    if (!this.active) return;
    const { decisions, policies } = verdict;
    for (let i = 0; i < decisions.length; i++) {
      const decision = decisions[i];
      const policy = policies[i];
      this.observer?.decision(decision.allowed ? 'allowed' : policy.shadow ? 'shadow_denied' : 'denied', policy);
      if (this.listener) this.emit(decision.allowed ? 'allowed' : 'denied', policy, trackers[i], started, decision, undefined);
    }
  }

  /** One event per policy of a request the store could not decide, with what the fail mode did. */
  failed(verdict: RateLimitVerdict, trackers: readonly string[], started: number, mode: FailMode): void {
    if (!this.active) return;
    verdict.policies.forEach((policy, i) => {
      this.observer?.decision('failed', policy);
      if (this.listener) this.emit('failed', policy, trackers[i], started, verdict.decisions[i], mode);
    });
  }

  /** One event per policy of a request whose own functions failed (nothing was decided). */
  errored(policies: readonly CompiledPolicy[], started: number): void {
    if (!this.active) return;
    for (const policy of policies) {
      this.observer?.decision('error', policy);
      if (this.listener) this.emit('error', policy, undefined, started, undefined, undefined);
    }
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
