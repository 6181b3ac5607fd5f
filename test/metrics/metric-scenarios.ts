import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { RateLimiterService } from 'nestjs-redis-rate-limit';
import type { TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, get, sleep } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';
import type { MetricReadings } from './metric-readings.js';
import { startMetricsApp } from './metrics-app.js';

/** One metrics library under test: a fresh module (own registry or meter) and how to read it back. */
export interface MetricsSubject {
  metrics: DynamicModule;
  controllers?: Type[];
  providers?: Provider[];
  read(app: TestApp): Promise<MetricReadings>;
}

const LIMITED = 'LimitedController.limited';
const OPEN = 'LimitedController.open';

/** Requests one after the other; their statuses. */
async function statuses(url: string, count: number, client: string): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await get(url, { 'x-client': client })).status);
  return result;
}

/**
 * The behaviour both metrics subpaths share, over HTTP on a real Nest app and real Redis: every
 * count is the number of requests made (deltas, so the tests do not depend on each other).
 */
export function metricScenarios(createSubject: () => MetricsSubject): void {
  describe('with Redis answering', () => {
    let redis: RedisServer;
    let app: TestApp;
    let subject: MetricsSubject;
    const read = () => subject.read(app);

    beforeAll(async () => {
      redis = await RedisServer.start();
      subject = createSubject();
      app = await startMetricsApp({ ...subject, options: { redis: redis.url, timeout: DECISION_TIMEOUT } });
    });
    afterAll(async () => {
      await app.close();
      await redis.destroy();
    });

    it('counts allowed and denied decisions by policy and route, and the denials answered from the deny cache', async () => {
      const before = await read();
      expect(await statuses(`${app.url}/limited`, 5, 'client-with-a-secret-name')).toEqual([200, 200, 200, 429, 429]);
      const after = await read();
      const delta = (outcome: string) => after.decisions({ policy: 'default', route: LIMITED, outcome }) - before.decisions({ policy: 'default', route: LIMITED, outcome });
      expect(delta('allowed')).toBe(3);
      expect(delta('denied')).toBe(2);
      // The first denial came from Redis and was cached; the second was answered from the cache.
      expect(after.denyCacheHits() - before.denyCacheHits()).toBe(1);
      expect(after.labelValues().some((value) => value.includes('secret'))).toBe(false);
    });

    it('times every store call: one per sequential request, one for a batch of decisions sent together', async () => {
      const before = await read();
      expect(await statuses(`${app.url}/open`, 4, 'timed')).toEqual([200, 200, 200, 200]);
      const afterHttp = await read();
      expect(afterHttp.storeDuration().count - before.storeDuration().count).toBeGreaterThanOrEqual(4);
      expect(afterHttp.storeDuration().sum).toBeGreaterThan(before.storeDuration().sum);

      // Ten decisions asked for in one turn of the event loop go to Redis as one batch: one call.
      const limiter = app.app.get(RateLimiterService);
      const policy = { name: 'batched', limit: 100, window: '1m' } as const;
      const decisions = await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.consume(`batch-${i}`, policy)));
      expect(decisions.every((d) => d.allowed)).toBe(true);
      const afterBatch = await read();
      expect(afterBatch.storeDuration().count - afterHttp.storeDuration().count).toBe(1);
      expect(afterBatch.decisions({ policy: 'batched', route: 'RateLimiterService', outcome: 'allowed' })).toBe(10);
    });

    it('counts the denials of a shadow policy as shadow_denied, and lets them through', async () => {
      const before = await read();
      expect(await statuses(`${app.url}/shadow`, 4, 'shadowed')).toEqual([200, 200, 200, 200]);
      const after = await read();
      const delta = (outcome: string) => after.decisions({ policy: 'trial', outcome }) - before.decisions({ policy: 'trial', outcome });
      expect(delta('allowed')).toBe(1);
      expect(delta('shadow_denied')).toBe(3);
      expect(delta('denied')).toBe(0);
    });

    it('counts a request whose tracker throws as error (answered 500), with no store call', async () => {
      const before = await read();
      expect(await statuses(`${app.url}/broken`, 2, 'any')).toEqual([500, 500]);
      const after = await read();
      expect(after.decisions({ policy: 'broken', outcome: 'error' }) - before.decisions({ policy: 'broken', outcome: 'error' })).toBe(2);
      expect(after.decisions({ policy: 'broken' }) - before.decisions({ policy: 'broken' })).toBe(2);
      expect(after.storeDuration().count).toBe(before.storeDuration().count);
    });

    it('exports the breaker as closed and no store failure while Redis answers', async () => {
      const readings = await read();
      expect(readings.circuitOpen()).toBe(0);
      expect(readings.failures()).toBe(0);
    });
  });

  describe('with Redis failing', () => {
    let redis: RedisServer;
    let app: TestApp;
    let subject: MetricsSubject;
    const read = () => subject.read(app);
    const failedDecisions = (readings: MetricReadings) => readings.decisions({ route: OPEN, outcome: 'failed' });

    beforeAll(async () => {
      redis = await RedisServer.start();
      subject = createSubject();
      // A short timeout, so that a frozen Redis fails decisions quickly (failMode 'open' lets them through).
      app = await startMetricsApp({ ...subject, options: { redis: redis.url, timeout: 300 } });
    });
    afterAll(async () => {
      await app.close();
      await redis.destroy();
    });

    it('counts timeouts, opens the breaker gauge after 5 of them, counts circuit_open, and closes it once Redis answers again', async () => {
      expect(await statuses(`${app.url}/open`, 1, 'warm')).toEqual([200]);
      const before = await read();
      expect(before.circuitOpen()).toBe(0);
      redis.pause();
      let sent = 0;
      try {
        // Each decision waits for its timeout until the 5th consecutive failure opens the breaker.
        for (let i = 0; i < 20 && (await read()).circuitOpen() !== 1; i++) {
          expect(await statuses(`${app.url}/open`, 1, 'frozen')).toEqual([200]);
          sent++;
        }
        const opened = await read();
        expect(opened.circuitOpen()).toBe(1);
        expect(opened.failures('timeout') - before.failures('timeout')).toBeGreaterThanOrEqual(5);
        // While it is open, decisions skip Redis.
        expect(await statuses(`${app.url}/open`, 2, 'frozen')).toEqual([200, 200]);
        sent += 2;
        const skipped = await read();
        expect(skipped.failures('circuit_open') - before.failures('circuit_open')).toBeGreaterThanOrEqual(2);
        expect(failedDecisions(skipped) - failedDecisions(before)).toBe(sent);
        // Each failed decision has exactly one reason.
        expect(skipped.failures() - before.failures()).toBe(sent);
      } finally {
        redis.resume();
      }
      // The breaker lets a probe through after its 2 s cool-down; a success closes it.
      let closed = false;
      for (let i = 0; i < 60 && !closed; i++) {
        await statuses(`${app.url}/open`, 1, 'recovering');
        closed = (await read()).circuitOpen() === 0;
        if (!closed) await sleep(250);
      }
      expect(closed).toBe(true);
      const recovered = await read();
      expect(await statuses(`${app.url}/open`, 1, 'recovered')).toEqual([200]);
      const allowed = (readings: MetricReadings) => readings.decisions({ route: OPEN, outcome: 'allowed' });
      expect(allowed(await read()) - allowed(recovered)).toBe(1);
    });

    it('counts decisions while Redis is stopped as failed, with the reason disconnected', async () => {
      const before = await read();
      await redis.stop();
      expect(await statuses(`${app.url}/open`, 3, 'stopped')).toEqual([200, 200, 200]);
      const after = await read();
      expect(failedDecisions(after) - failedDecisions(before)).toBe(3);
      expect(after.failures('disconnected') - before.failures('disconnected')).toBeGreaterThanOrEqual(1);
      expect(after.failures() - before.failures()).toBe(3);
    });
  });
}
