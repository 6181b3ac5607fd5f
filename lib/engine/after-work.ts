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

type Work = (outcome: RequestOutcome) => Promise<void>;
type Emitter = { once(event: string, listener: () => void): unknown; statusCode?: number; writableFinished?: boolean };

/**
 * The work a request leaves for after its response, each part run exactly once: `settle`
 * (as soon as the handler's value is known, or with the rest), then refunds and slot releases
 * when the request is over. Over HTTP the response's `finish`/`close` ends it when the guard
 * hooked it; elsewhere `RateLimitInterceptor` does.
 */
export class AfterWork {
  /** The HTTP response is hooked: it ends the work, and the interceptor only settles. */
  hooked = false;
  private captured: { value?: unknown; error?: unknown } = {};
  private settled = false;
  private done = false;

  constructor(
    private readonly settleWork: Work | undefined,
    private readonly finishWork: Work,
  ) {}

  /** Whether a policy of the request settles its cost after the handler. */
  get settles(): boolean {
    return this.settleWork !== undefined;
  }

  /**
   * Runs the work when the raw response (Express's `res`, Fastify's `reply.raw`) has been sent,
   * with its final status, or when the connection closes first (a failure).
   */
  hookResponse(response: unknown): void {
    const raw = ((response as { raw?: Emitter }).raw ?? response) as Emitter;
    if (typeof raw?.once !== 'function') return;
    this.hooked = true;
    raw.once('finish', () => void this.finish({ status: raw.statusCode, aborted: false }));
    raw.once('close', () => void this.finish({ status: raw.statusCode, aborted: raw.writableFinished !== true }));
  }

  /** Keeps the handler's value or error for a settle that runs later (a stream, at its close). */
  capture(result: { value?: unknown; error?: unknown }): void {
    this.captured = result;
  }

  /** Settles now, the first time only. */
  settle(outcome: RequestOutcome): Promise<void> {
    if (this.settled || !this.settleWork) return Promise.resolve();
    this.settled = true;
    return this.settleWork(outcome);
  }

  /** Ends the request's work (settling first if it has not), the first time only; resolves when the store has answered. */
  async finish(outcome: RequestOutcome): Promise<void> {
    if (this.done) return;
    this.done = true;
    const full = { ...this.captured, ...outcome };
    await Promise.all([this.settle(full), this.finishWork(full)]);
  }
}

/** Whether a request succeeded for `refund`: a status below 400 (when there is one), nothing thrown, not aborted. */
export const succeeded = (outcome: RequestOutcome) =>
  !outcome.aborted && outcome.error === undefined && (outcome.status === undefined || outcome.status < 400);
