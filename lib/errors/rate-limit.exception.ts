import { HttpException, HttpStatus } from '@nestjs/common';

export interface RateLimitExceptionBody {
  statusCode: 429;
  message: string;
  /** Name of the policy that denied the request. */
  policy: string;
  /** Seconds to wait before the same request can pass, or `null` if it never can. */
  retryAfter: number | null;
}

/** The 429 raised when a request is over its limit. */
export class RateLimitException extends HttpException {
  constructor(
    readonly policy: string,
    readonly retryAfter: number | null,
    message = 'Too Many Requests',
  ) {
    const body: RateLimitExceptionBody = { statusCode: HttpStatus.TOO_MANY_REQUESTS, message, policy, retryAfter };
    super(body, HttpStatus.TOO_MANY_REQUESTS);
  }
}
