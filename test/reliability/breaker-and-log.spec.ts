/**
 * The circuit breaker and the failure log on their own, on a fake clock: the breaker opens after
 * `threshold` consecutive failures, lets exactly one probe through per cool-down, and closes on
 * a success; the log reports a burst once, not once per request.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { CircuitBreaker } from '../../lib/engine/circuit-breaker.js';
import { FailureLog } from '../../lib/support/failure-log.js';
import { DecisionTimeoutError, withTimeout } from '../../lib/engine/with-timeout.js';
import { RedisServer } from '../support/redis-server.js';

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('CircuitBreaker', () => {
  it('opens after 5 consecutive failures, probes once per 2 s cool-down, closes on success', () => {
    const breaker = new CircuitBreaker();
    for (let i = 0; i < 4; i++) {
      expect(breaker.allows()).toBe(true);
      breaker.failed();
    }
    expect(breaker.state).toBe('closed');
    breaker.succeeded(); // a success in between resets the count: failures must be consecutive
    for (let i = 0; i < 5; i++) {
      expect(breaker.allows()).toBe(true);
      breaker.failed();
    }
    expect(breaker.state).toBe('open');
    expect(breaker.allows()).toBe(false);
    expect(breaker.retryAfterMs()).toBe(2_000);

    jest.advanceTimersByTime(1_999);
    expect(breaker.allows()).toBe(false);
    expect(breaker.retryAfterMs()).toBe(1_000); // at least 1 s: a Retry-After of 0 means nothing
    jest.advanceTimersByTime(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.allows()).toBe(true); // the probe
    expect(breaker.allows()).toBe(false); // one at a time
    breaker.failed(); // the probe failed: open for another cool-down
    expect(breaker.state).toBe('open');
    expect(breaker.allows()).toBe(false);

    jest.advanceTimersByTime(2_000);
    expect(breaker.allows()).toBe(true);
    breaker.succeeded();
    expect(breaker.state).toBe('closed');
    expect(breaker.allows()).toBe(true);
    expect(breaker.allows()).toBe(true);
  });
});

describe('CircuitBreaker: failures that happen together', () => {
  /** A call sent now that fails `ms` later. */
  const failAfter = (breaker: CircuitBreaker, ms: number) => {
    const sentAt = performance.now();
    jest.advanceTimersByTime(ms);
    breaker.failed(sentAt);
  };

  it('counts the calls already in flight when a failure is seen as that one failure: one stall never opens it', () => {
    const breaker = new CircuitBreaker();
    // A stall: 64 calls sent over 90 ms all time out at once.
    const t0 = performance.now();
    jest.advanceTimersByTime(190);
    for (let i = 0; i < 64; i++) breaker.failed(t0 + (i * 90) / 64);
    expect(breaker.state).toBe('closed');
    // Calls sent after a failure was seen, failing in turn, are consecutive failures.
    for (let i = 0; i < 3; i++) failAfter(breaker, 100);
    expect(breaker.state).toBe('closed');
    failAfter(breaker, 100);
    expect(breaker.state).toBe('open');
  });

  it('counts afresh after a success', () => {
    const breaker = new CircuitBreaker();
    for (let i = 0; i < 4; i++) failAfter(breaker, 100);
    breaker.succeeded();
    for (let i = 0; i < 4; i++) failAfter(breaker, 100);
    expect(breaker.state).toBe('closed');
    failAfter(breaker, 100);
    expect(breaker.state).toBe('open');
  });
});

describe('FailureLog', () => {
  const logger = () => {
    const lines: Array<[string, string]> = [];
    return {
      lines,
      logger: { error: (m: string) => lines.push(['error', m]), log: (m: string) => lines.push(['log', m]) } as unknown as Logger,
    };
  };

  it('logs the first failure of a burst, then one summary per interval', () => {
    const { lines, logger: l } = logger();
    const log = new FailureLog(l, 10_000);
    for (let i = 0; i < 1_000; i++) log.failed('down');
    expect(lines).toEqual([['error', 'down']]);
    jest.advanceTimersByTime(10_000);
    log.failed('down');
    expect(lines).toEqual([['error', 'down'], ['error', 'down (999 more failures since the last report)']]);
  });

  it('recovered() reports what was suppressed, once, and the next failure starts a new burst', () => {
    const { lines, logger: l } = logger();
    const log = new FailureLog(l, 10_000);
    log.recovered('back'); // nothing failed: nothing to say
    expect(lines).toEqual([]);
    for (let i = 0; i < 50; i++) log.failed('down');
    log.recovered('back');
    log.recovered('back');
    expect(lines).toEqual([['error', 'down'], ['log', 'back (49 more failures since the last report)']]);
    log.failed('down again');
    expect(lines[2]).toEqual(['error', 'down again']);
  });
});

describe('withTimeout (real timers)', () => {
  beforeEach(() => {
    jest.useRealTimers();
  });

  it('rejects after the budget, and swallows the late outcome of the raced promise', async () => {
    let reject!: (e: Error) => void;
    const slow = new Promise<number>((_, r) => (reject = r));
    await expect(withTimeout(slow, 50)).rejects.toBeInstanceOf(DecisionTimeoutError);
    reject(new Error('late')); // no unhandled rejection
    await expect(withTimeout(Promise.resolve(7), 50)).resolves.toBe(7);
  });

  it('a reply that arrived while the event loop was busy wins over the timer that expired meanwhile', async () => {
    const redis = await RedisServer.start(); // another process: it answers while this one is busy
    const client = redis.client();
    try {
      await client.ping();
      const raced = withTimeout(client.ping(), 100);
      // PONG is back within a millisecond, but this event loop is busy for 300 ms.
      const end = performance.now() + 300;
      while (performance.now() < end) {
        // CPU work of other requests
      }
      await expect(raced).resolves.toBe('PONG');
    } finally {
      client.disconnect();
      await redis.destroy();
    }
  });
});
