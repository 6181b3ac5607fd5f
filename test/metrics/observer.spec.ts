import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  RateLimitEngine,
  RateLimiterService,
  RateLimitModule,
  type RateLimitObservedOutcome,
  type RateLimitObservedPolicy,
  type RateLimitObserver,
  type RateLimitStoreFailureReason,
} from 'nestjs-redis-rate-limit';
import { CaptureLogger } from '../support/capture-logger.js';
import { startApp, type TestApp } from '../support/http-app.js';
import { clientHeaderTracker, DECISION_TIMEOUT, get } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';
import { LimitedController } from './metrics-app.js';

/** Keeps every report, as a metrics integration of one's own would receive them. */
class RecordingObserver implements RateLimitObserver {
  readonly decided: Array<{ outcome: RateLimitObservedOutcome; policy: string; route: string; count: number }> = [];
  readonly storeCalls: number[] = [];
  readonly failures: RateLimitStoreFailureReason[] = [];
  readonly circuit: boolean[] = [];
  hits = 0;

  decisions(outcome: RateLimitObservedOutcome, policy: RateLimitObservedPolicy, count: number): void {
    this.decided.push({ outcome, policy: policy.name, route: policy.where, count });
  }
  storeCall(seconds: number): void {
    this.storeCalls.push(seconds);
  }
  storeFailure(reason: RateLimitStoreFailureReason): void {
    this.failures.push(reason);
  }
  circuitChanged(open: boolean): void {
    this.circuit.push(open);
  }
  denyCacheHits(count: number): void {
    this.hits += count;
  }

  total(outcome: RateLimitObservedOutcome, route: string): number {
    return this.decided.filter((d) => d.outcome === outcome && d.route === route).reduce((sum, d) => sum + d.count, 0);
  }
}

/** Throws from every report. */
const throwing: RateLimitObserver = {
  decisions: () => {
    throw new Error('observer down');
  },
  storeCall: () => {
    throw new Error('observer down');
  },
  storeFailure: () => undefined,
  circuitChanged: () => undefined,
  denyCacheHits: () => {
    throw new Error('observer down');
  },
};

describe('RateLimitEngine.addObserver, the integration point of metrics', () => {
  let redis: RedisServer;
  let app: TestApp;
  const recording = new RecordingObserver();
  const logger = new CaptureLogger();

  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await startApp('express', {
      imports: [RateLimitModule.forRoot({ redis: redis.url, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [LimitedController],
    });
    app.app.useLogger(logger);
    const engine = app.app.get(RateLimitEngine);
    // The throwing observer first: the one after it must hear everything all the same.
    engine.addObserver(throwing);
    engine.addObserver(recording);
  });
  afterAll(async () => {
    await app.close();
    await redis.destroy();
  });

  it("tells an observer the breaker's state when it is added", () => {
    expect(recording.circuit).toEqual([false]);
  });

  it('reports the decisions of one event-loop turn as one count per policy and outcome, and one store call for their batch', async () => {
    const limiter = app.app.get(RateLimiterService);
    const policy = { name: 'together', limit: 100, window: '1m' } as const;
    const calls = recording.storeCalls.length;
    await Promise.all(Array.from({ length: 6 }, (_, i) => limiter.consume(`together-${i}`, policy)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(recording.decided.filter((d) => d.policy === 'together')).toEqual([{ outcome: 'allowed', policy: 'together', route: 'RateLimiterService', count: 6 }]);
    expect(recording.storeCalls.length - calls).toBe(1);
    expect(recording.storeCalls.at(-1)).toBeGreaterThan(0);
  });

  it('keeps requests answered as the limit says while an observer throws, and logs that once per burst', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(`${app.url}/limited`, { 'x-client': 'observed' })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(recording.total('allowed', 'LimitedController.limited')).toBe(3);
    expect(recording.total('denied', 'LimitedController.limited')).toBe(2);
    expect(recording.hits).toBe(1);
    // Every report to it threw, in this test and the one before: one burst, one line.
    expect(logger.rateLimit('error', 'a rate limit observer threw: observer down')).toHaveLength(1);
  });
});
