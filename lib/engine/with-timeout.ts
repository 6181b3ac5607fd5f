export class DecisionTimeoutError extends Error {
  override readonly name = 'DecisionTimeoutError';
}

/**
 * Rejects with `DecisionTimeoutError` when `promise` takes longer than `ms`.
 *
 * The budget is for Redis, and a busy event loop (CPU work of other requests) must not turn a
 * prompt answer into a timeout:
 * - a command may leave only after a stall (the Redis store sends each turn's batch of
 *   decisions from `setImmediate`): a timer that fires much later than due means the loop
 *   stalled, and the answer gets one fresh budget from then on;
 * - after a stall, Node runs expired timers before it reads the sockets, so the rejection is
 *   deferred to `setImmediate`, after the poll phase: a reply that has arrived meanwhile is read
 *   and settles the promise first.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let due = performance.now() + ms;
    let extended = false;
    const expire = () => {
      const late = performance.now() - due;
      if (!extended && late > ms / 2) {
        extended = true;
        due = performance.now() + ms;
        timer = setTimeout(expire, ms);
        return;
      }
      setImmediate(() => {
        if (!settled) reject(new DecisionTimeoutError(`no answer within ${ms} ms`));
      });
    };
    let timer = setTimeout(expire, ms);
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
