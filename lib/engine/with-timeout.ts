export class DecisionTimeoutError extends Error {
  override readonly name = 'DecisionTimeoutError';
}

/**
 * Rejects with `DecisionTimeoutError` when `promise` takes longer than `ms`.
 *
 * A busy event loop (CPU work of other requests) must not turn a prompt answer into a timeout:
 * after a stall, Node runs expired timers before it reads the sockets, so the timer would fire
 * while the reply already sits in the socket buffer. When the timer fires, the rejection is
 * therefore deferred to `setImmediate`, which runs after the poll phase: any reply that has
 * arrived meanwhile is read and settles the promise first.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (!settled) reject(new DecisionTimeoutError(`no answer within ${ms} ms`));
      });
    }, ms);
    promise.then(
      (value) => {
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
