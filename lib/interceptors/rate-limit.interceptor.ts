import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { finalize, tap, type Observable } from 'rxjs';
import { verdictOf } from '../guards/rate-limit.guard.js';

/**
 * Runs a request's after-work (`refund`) when its handler completes, fails or is unsubscribed:
 * for gateways, microservices and GraphQL fields, which have no HTTP response to hook. `@RateLimit`
 * attaches it to the handlers whose policies need it; over HTTP, where the guard hooks the
 * response, it does nothing. Binding it again by hand never runs the work twice.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const after = verdictOf(context)?.after;
    if (!after || after.hooked) return next.handle();
    let value: unknown;
    return next.handle().pipe(
      tap({
        next: (emitted) => (value = emitted),
        complete: () => after.finish({ value, aborted: false }),
        error: (error: unknown) => after.finish({ error, aborted: false }),
      }),
      // Unsubscribed before it completed (a client that went away).
      finalize(() => after.finish({ aborted: true })),
    );
  }
}
