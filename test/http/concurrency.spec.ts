import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type Type } from '@nestjs/common';
import { RateLimit, RateLimitModule, type RateLimitAlgorithm } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, countOf, startApp, type TestApp } from '../support/http-app.js';
import { ALGORITHMS, burstStatuses, clientHeaderTracker } from '../support/http-suite.js';

/**
 * "Ten servers each allowing 100/min must admit 100/min in total, not 1,000 — exactly, under
 * concurrency." 1,000 requests at once against limit 100, on one app and on three apps sharing
 * one Redis. All requests are sent at once; the client keeps at most 500 connections per app
 * open (beyond that, this single process spends its time on sockets, not on deciding).
 * Windows are a day long: nothing refills during a burst. The decision timeout is raised and
 * failMode is 'closed' so that a decision slowed down by the load shows as a 503 rather than
 * being silently admitted: this process is client and servers at once on a loaded machine
 * (timeouts themselves are tested in fail-mode.spec.ts and decision-timeout.spec.ts).
 */

const REQUESTS = 1000;
const LIMIT = 100;

function algorithmController(algorithm: RateLimitAlgorithm): Type {
  @Controller(`concurrency/${algorithm}`)
  class ConcurrencyController {
    @Get()
    @RateLimit({ algorithm, limit: LIMIT, window: '1d' })
    hit() {
      return { ok: true };
    }
  }
  Object.defineProperty(ConcurrencyController, 'name', { value: `Concurrency_${algorithm.replace('-', '_')}` });
  return ConcurrencyController;
}
const CONTROLLERS = ALGORITHMS.map(algorithmController);

const moduleFor = (redisUrl: string, adapter: string) => ({
  imports: [RateLimitModule.forRoot({ redis: redisUrl, keyPrefix: `conc-${adapter}`, tracker: clientHeaderTracker, timeout: 20_000, failMode: 'closed' })],
  controllers: CONTROLLERS,
});

/** Generous: on a shared 2-core machine under load a burst can take many times its usual second or two. */
const BURST_TIMEOUT_MS = 90_000;

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('concurrency on %s', (adapter) => {
  describe('one application', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(adapter, moduleFor(redis.url, adapter));
    });
    afterAll(() => app.close());

    it.each(ALGORITHMS)('%s: 1,000 concurrent requests against limit: 100 admit exactly 100', async (algorithm) => {
      const urls = Array.from({ length: REQUESTS }, () => `${app.url}/concurrency/${algorithm}`);
      const statuses = await burstStatuses(urls, { 'x-client': `one-app-${algorithm}` });
      expect(countOf(statuses, 200)).toBe(LIMIT);
      expect(countOf(statuses, 429)).toBe(REQUESTS - LIMIT);
    }, BURST_TIMEOUT_MS);
  });

  describe('three applications sharing one Redis', () => {
    let apps: TestApp[];
    beforeAll(async () => {
      apps = [];
      for (let i = 0; i < 3; i++) apps.push(await startApp(adapter, moduleFor(redis.url, adapter)));
    });
    afterAll(() => Promise.all(apps.map((app) => app.close())));

    it.each(ALGORITHMS)('%s: 1,000 concurrent requests spread round-robin over 3 instances admit exactly 100 in total', async (algorithm) => {
      const urls = Array.from({ length: REQUESTS }, (_, i) => `${apps[i % 3].url}/concurrency/${algorithm}`);
      const statuses = await burstStatuses(urls, { 'x-client': `three-apps-${algorithm}` });
      expect(countOf(statuses, 200)).toBe(LIMIT);
      expect(countOf(statuses, 429)).toBe(REQUESTS - LIMIT);
    }, BURST_TIMEOUT_MS);
  });
});
