import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { RateLimitEngine } from '../engine/rate-limit-engine.js';
import type { Tracker } from '../interfaces/rate-limit-policy.interface.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import { RATE_LIMIT_ENGINE, RATE_LIMIT_HEADER_WRITER, RATE_LIMIT_OPTIONS, RATE_LIMIT_POLICY_REGISTRY } from '../rate-limit.constants.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';
import { rateLimitedError, unavailableError } from '../contexts/context-errors.js';
import { httpExchange, routeRequest, routeResponse } from '../contexts/http-exchange.js';
import { denyingDecision, RateLimitHeaderWriter, retryAfterSeconds } from '../headers/rate-limit-header-writer.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { RateLimitPolicyRegistry } from '../policy/rate-limit-policy.registry.js';
import { CONTEXT_VERDICT, RATE_LIMIT_GUARD, sharedVerdicts } from '../support/process-state.js';

/**
 * Verdicts with after-work by HTTP request, or by argument list for gateways and microservices,
 * for `RateLimitInterceptor` (whose context is not the guards'); shared by every guard instance.
 * Not a property on the request: Express swaps the request's prototype, and adding a property to
 * such an object takes V8's slow path (some 4 µs a request). Only where there is after-work: an
 * entry of a weak map costs the collector about 1 µs a request.
 */
const withAfterWork = sharedVerdicts;

type DecidedContext = ExecutionContext & { [CONTEXT_VERDICT]?: RateLimitVerdict };

/**
 * What a request's verdict is kept by: the HTTP request of a route, else the argument list
 * (gateways, microservices; a GraphQL operation's fields share its request, but each is its own
 * invocation). The guards and the interceptor all see the same one.
 */
export const invocationOf = (context: ExecutionContext): object => (context.getType() === 'http' ? routeRequest(context) : context.getArgs());

/** The verdict the guard kept for a request that has after-work (`RateLimitInterceptor` runs it). */
export const verdictOf = (context: ExecutionContext): RateLimitVerdict | undefined => withAfterWork.get(invocationOf(context));

/**
 * Decides each request through the store. Registered app-wide by default; binding it again
 * with `@UseGuards` never charges a request twice.
 *
 * Subclass it to change how clients are told apart (`getTracker`) or what a denial raises
 * (`denialError`); register the subclass with `globalGuard: false` as `APP_GUARD` or with `@UseGuards`.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  static readonly [RATE_LIMIT_GUARD] = true;
  private readonly tracker = (context: ExecutionContext) => this.getTracker(context);

  constructor(
    @Inject(RATE_LIMIT_POLICY_REGISTRY) protected readonly registry: RateLimitPolicyRegistry,
    @Inject(RATE_LIMIT_ENGINE) protected readonly engine: RateLimitEngine,
    @Inject(RATE_LIMIT_HEADER_WRITER) protected readonly headers: RateLimitHeaderWriter,
    @Inject(RATE_LIMIT_OPTIONS) protected readonly options: ResolvedOptions,
  ) {}

  /**
   * A plain `true` (not a promise) where there is nothing to decide: Nest then goes on to the
   * handler without awaiting this guard.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (!this.options.enabled) return true;
    const policies = this.registry.forHandler(context.getClass(), context.getHandler());
    if (policies.length === 0) return true;
    // A second guard (app-wide and hand-bound) reuses the first one's verdict.
    const earlier = (context as DecidedContext)[CONTEXT_VERDICT];
    if (earlier) return earlier.allowed;
    return this.#decide(context, policies);
  }

  // `#`: a subclass's own method of that name must not replace it.
  async #decide(context: ExecutionContext, policies: readonly CompiledPolicy[]): Promise<boolean> {
    const verdict = await this.engine.decide(context, policies, this.tracker);
    (context as DecidedContext)[CONTEXT_VERDICT] = verdict;
    if (verdict.after) withAfterWork.set(invocationOf(context), verdict);
    const route = context.getType() === 'http';
    const response = route ? routeResponse(context) : httpExchange(context)?.response;
    // Headers are written here for admitted requests too: an app-wide interceptor would put an
    // Observable pipeline on every route of the app, limited or not, for the same few header writes.
    if (response) this.headers.write(response, verdict);
    // A route's after-work runs when its response is sent or its connection closes, so a later
    // guard that throws, an exception filter or a client abort still gets it.
    if (verdict.after && route) verdict.after.hookResponse(response);
    if (verdict.allowed) return true;
    throw await this.denialError(context, verdict);
  }

  /**
   * The tracker of policies that have none of their own: by default the module's `tracker`
   * option, else the client's address. Return `undefined` (or `null`) for the client's address;
   * throw an `HttpException` to answer with it (say, a 401 when an API key is missing).
   */
  protected getTracker(context: ExecutionContext): ReturnType<Tracker> {
    return this.engine.moduleTracker(context);
  }

  /**
   * The error a denial raises: a 429 (or the 503 of a failed-closed store) over HTTP,
   * `WsException` in gateways, `RpcException` in microservices, an error GraphQL reports with `extensions.code` RATE_LIMITED in resolvers.
   * Override to raise another.
   */
  protected denialError(context: ExecutionContext, verdict: RateLimitVerdict): Promise<Error> {
    const type = context.getType<string>();
    if (verdict.unavailableRetryMs !== undefined) {
      return unavailableError(type, retryAfterSeconds(verdict.unavailableRetryMs)!);
    }
    const denying = denyingDecision(verdict)!;
    const { errorMessage } = this.options;
    const message = typeof errorMessage === 'string' ? errorMessage : errorMessage(context, denying);
    return rateLimitedError(type, denying.policy, retryAfterSeconds(denying.retryAfterMs), message);
  }
}
