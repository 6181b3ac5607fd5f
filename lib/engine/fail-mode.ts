import type { FailMode } from '../interfaces/rate-limit-policy.interface.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { MemoryRateLimitStore } from '../store/memory/memory-rate-limit-store.js';
import type { StoreCall } from '../store/rate-limit-store.interface.js';
import type { FailureLog } from '../support/failure-log.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { PolicyCharge } from './after-response.js';
import { chargesOf, toVerdict, type RateLimitVerdict } from './rate-limit-verdict.js';
import { StoreUnavailableError } from './store-caller.js';

const STRICTNESS: Record<FailMode, number> = { open: 0, local: 1, closed: 2 };

/** The strictest fail mode of a route's policies: closed > local > open. */
export const strictestFailMode = (policies: readonly CompiledPolicy[]): FailMode =>
  policies.reduce<FailMode>((strictest, p) => (STRICTNESS[p.failMode] > STRICTNESS[strictest] ? p.failMode : strictest), 'open');

/**
 * What a request gets when the store gave no verdict: `open` admits, `closed` refuses (503 with
 * the breaker's remaining cool-down), `local` decides with an in-process limiter of the same
 * semantics, whose budget is this instance's alone.
 */
export class FailModes {
  private local: MemoryRateLimitStore | undefined;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly failures: FailureLog,
  ) {}

  /**
   * The verdict, and for `local` what it charged (for the after-work, which then goes to the
   * local store: Redis never saw those charges).
   */
  async verdict(
    policies: readonly CompiledPolicy[],
    calls: readonly StoreCall[],
    error: unknown,
    mode: FailMode,
    keepCharge: boolean,
  ): Promise<{ verdict: RateLimitVerdict; charges?: Array<PolicyCharge | undefined> }> {
    const reason = error instanceof StoreUnavailableError ? ` (${error.message})` : `: ${error instanceof Error ? error.message : String(error)}`;
    this.failures.failed(`rate limit decision failed, failing ${mode}: store unavailable${reason}`);
    if (mode === 'local') {
      const local = (this.local ??= new MemoryRateLimitStore());
      const decided = await local.decide(calls);
      return { verdict: toVerdict(policies, calls, decided), charges: chargesOf(policies, calls, decided, local, keepCharge) };
    }
    if (mode === 'closed') return { verdict: { allowed: false, policies, decisions: [], unavailableRetryMs: this.breaker.retryAfterMs() } };
    return { verdict: { allowed: true, policies, decisions: [] } };
  }
}
