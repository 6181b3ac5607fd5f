/** How a request ended, as the after-work sees it. */
export interface RequestOutcome {
  /** The handler's value (what `RateLimitInterceptor` saw). */
  readonly value?: unknown;
  /** What the handler (or, over HTTP, a later guard or pipe) threw. */
  readonly error?: unknown;
  /** The final HTTP status, after exception filters. */
  readonly status?: number;
  /** The connection closed before the response was sent, or the result was unsubscribed. */
  readonly aborted: boolean;
}

type Emitter = { once(event: string, listener: () => void): unknown; statusCode?: number; writableFinished?: boolean };

/**
 * The work a request leaves for after its response (refunds), run exactly once: from the HTTP
 * response's `finish`/`close` when the guard hooked it, else from `RateLimitInterceptor`.
 */
export class AfterWork {
  /** The HTTP response is hooked: it runs the work, and the interceptor leaves it alone. */
  hooked = false;
  private done = false;

  constructor(private readonly work: (outcome: RequestOutcome) => void) {}

  /**
   * Runs the work when the raw response (Express's `res`, Fastify's `reply.raw`) has been sent,
   * with its final status, or when the connection closes first (a failure).
   */
  hookResponse(response: unknown): void {
    const raw = ((response as { raw?: Emitter }).raw ?? response) as Emitter;
    if (typeof raw?.once !== 'function') return;
    this.hooked = true;
    raw.once('finish', () => this.finish({ status: raw.statusCode, aborted: false }));
    raw.once('close', () => this.finish({ status: raw.statusCode, aborted: raw.writableFinished !== true }));
  }

  finish(outcome: RequestOutcome): void {
    if (this.done) return;
    this.done = true;
    this.work(outcome);
  }
}

/** Whether a request succeeded for `refund`: a status below 400 (when there is one), nothing thrown, not aborted. */
export const succeeded = (outcome: RequestOutcome) =>
  !outcome.aborted && outcome.error === undefined && (outcome.status === undefined || outcome.status < 400);
