import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { RATE_LIMIT_VERDICT } from '../rate-limit.constants.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';
import { RateLimitHeaderWriter } from '../headers/rate-limit-header-writer.js';
import { httpExchange } from '../guards/http-exchange.js';

/** Writes the rate-limit headers of admitted requests (the guard writes those of denials). */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  constructor(private readonly headers: RateLimitHeaderWriter) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = httpExchange(context);
    const verdict = http?.request[RATE_LIMIT_VERDICT] as RateLimitVerdict | undefined;
    if (verdict) this.headers.write(http!.response, verdict);
    return next.handle();
  }
}
