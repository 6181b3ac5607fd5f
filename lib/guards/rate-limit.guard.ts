import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RATE_LIMIT_VERDICT } from '../rate-limit.constants.js';
import { RateLimitEngine } from '../engine/rate-limit-engine.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';
import { rateLimitedError, unavailableError } from '../errors/context-denial.js';
import { denyingDecision, RateLimitHeaderWriter, retryAfterSeconds } from '../headers/rate-limit-header-writer.js';
import { RateLimitPolicyRegistry } from '../policy/rate-limit-policy.registry.js';
import { httpExchange } from './http-exchange.js';

type Carrier = Record<symbol, RateLimitVerdict | undefined>;

/** Verdicts of non-HTTP invocations, by their argument list; shared by every guard instance. */
const decidedArgs = new WeakMap<object, RateLimitVerdict>();

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
    const http = httpExchange(context);
    const carrier = http?.request as Carrier | undefined;
    // The app-wide guard and a hand-bound one see the same request (HTTP) or the same
    // arguments (gateways, microservices): the second one reuses the first one's verdict.
    const earlier = carrier ? carrier[RATE_LIMIT_VERDICT] : decidedArgs.get(context.getArgs());
    if (earlier) return earlier.allowed;

    const verdict = await this.engine.decide(context, policies);
    if (carrier) carrier[RATE_LIMIT_VERDICT] = verdict;
    else decidedArgs.set(context.getArgs(), verdict);
    // Headers are written here for admitted requests too: an app-wide interceptor would put an
    // Observable pipeline on every route of the app, limited or not, for the same few header writes.
    if (http) this.headers.write(http.response, verdict);
    if (verdict.allowed) return true;
    throw await this.denialError(context, verdict);
  }

  /**
   * The error a denial raises: a 429 (or the 503 of a failed-closed store) over HTTP,
   * `WsException` in gateways, `RpcException` in microservices. Override to raise another.
   */
  protected denialError(context: ExecutionContext, verdict: RateLimitVerdict): Promise<Error> {
    const type = context.getType();
    if (verdict.unavailableRetryMs !== undefined) {
      return unavailableError(type, retryAfterSeconds(verdict.unavailableRetryMs)!);
    }
    const denying = denyingDecision(verdict)!;
    return rateLimitedError(type, denying.policy, retryAfterSeconds(denying.retryAfterMs));
  }
}
