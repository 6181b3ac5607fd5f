import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, finalize, mergeMap, tap, type Observable } from 'rxjs';
import type { AfterWork } from '../engine/after-work.js';
import { verdictOf } from '../guards/rate-limit.guard.js';

/** A result that is written after the handler returns: a stream, a `StreamableFile`, or nothing (`@Res()`). */
const sentLater = (value: unknown) =>
  value === undefined || (typeof value === 'object' && value !== null && (typeof (value as { pipe?: unknown }).pipe === 'function' || typeof (value as { getStream?: unknown }).getStream === 'function'));

/**
 * Runs a request's after-work (`settle`, `refund`, releasing a concurrency slot). `@RateLimit`
 * attaches it to the handlers whose policies need it; binding it again by hand never runs the
 * work twice.
 *
 * - Over HTTP the guard hooks the response, which ends the work; here a `settle` runs as soon as
 *   the handler's value is known, before the response is written, so that the client's next
 *   request sees it. A stream, a `StreamableFile` or `@Res()` settles when the response closes.
 * - Gateways, microservices and GraphQL fields have no response to hook: the work runs when the
 *   handler completes, fails or is unsubscribed.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const after = verdictOf(context)?.after;
    if (!after) return next.handle();
    if (after.hooked) return after.settles ? settleBeforeWriting(next.handle(), after) : next.handle();
    let value: unknown;
    return next.handle().pipe(
      tap({
        next: (emitted) => (value = emitted),
        complete: () => void after.finish({ value, aborted: false }),
        error: (error: unknown) => void after.finish({ error, aborted: false }),
      }),
      // Unsubscribed before it completed (a client that went away).
      finalize(() => void after.finish({ aborted: true })),
    );
  }
}

function settleBeforeWriting(result: Observable<unknown>, after: AfterWork): Observable<unknown> {
  return result.pipe(
    mergeMap(async (value) => {
      after.capture({ value });
      if (!sentLater(value)) await after.settle({ value, aborted: false });
      return value;
    }),
    catchError(async (error: unknown) => {
      after.capture({ error });
      await after.settle({ error, aborted: false });
      throw error;
    }),
  );
}
