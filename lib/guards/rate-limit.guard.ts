import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RATE_LIMIT_VERDICT } from '../rate-limit.constants.js';
import { RateLimitEngine } from '../engine/rate-limit-engine.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';
import { RateLimitException } from '../errors/rate-limit.exception.js';
import { RateLimitUnavailableException } from '../errors/rate-limit-unavailable.exception.js';
import { denyingDecision, RateLimitHeaderWriter, retryAfterSeconds } from '../headers/rate-limit-header-writer.js';
import { RateLimitPolicyRegistry } from '../policy/rate-limit-policy.registry.js';

type Carrier = Record<symbol, RateLimitVerdict | undefined>;

/**
 * Decides each request through the store. Registered app-wide by default; binding it again
 * with `@UseGuards` never charges a request twice.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly registry: RateLimitPolicyRegistry,
    private readonly engine: RateLimitEngine,
    private readonly headers: RateLimitHeaderWriter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policies = this.registry.forHandler(context.getClass(), context.getHandler());
    if (policies.length === 0) return true;
    const http = context.getType() === 'http';
    const carrier = (http ? context.switchToHttp().getRequest() : undefined) as Carrier | undefined;
    const earlier = carrier?.[RATE_LIMIT_VERDICT];
    if (earlier) return earlier.allowed;

    const verdict = await this.engine.decide(context, policies);
    if (carrier) carrier[RATE_LIMIT_VERDICT] = verdict;
    if (verdict.allowed) return true;
    if (http) this.headers.write(context.switchToHttp().getResponse(), verdict);
    this.throwRateLimited(verdict);
  }

  /** Raises the denial; override to raise another error type. */
  protected throwRateLimited(verdict: RateLimitVerdict): never {
    if (verdict.unavailableRetryMs !== undefined) {
      throw new RateLimitUnavailableException(retryAfterSeconds(verdict.unavailableRetryMs)!);
    }
    const denying = denyingDecision(verdict)!;
    throw new RateLimitException(denying.policy, retryAfterSeconds(denying.retryAfterMs));
  }
}
