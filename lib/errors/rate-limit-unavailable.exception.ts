import { HttpException, HttpStatus } from '@nestjs/common';

/** The 503 of `failMode: 'closed'` when the store cannot decide. */
export class RateLimitUnavailableException extends HttpException {
  constructor(readonly retryAfter: number) {
    super(
      { statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: 'Rate limiter unavailable', retryAfter },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}
