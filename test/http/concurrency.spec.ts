import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type Type } from '@nestjs/common';
import { RateLimit, RateLimitModule, type RateLimitAlgorithm, type RateLimitModuleOptions } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, countOf, startApp, type AdapterName, type TestApp } from '../support/http-app.js';
import { ALGORITHMS, burstStatuses, clientHeaderTracker } from '../support/http-suite.js';
import { standaloneClient, type PassedClient } from '../support/redis-clients.js';

/**
 * "Ten servers each allowing 100/min must admit 100/min in total, not 1,000 — exactly, under
 * concurrency." 1,000 requests at once against limit 100, on one app and on three apps sharing
 * one Redis. All requests are sent at once; the client keeps at most 500 connections per app
 * open (beyond that, this single process spends its time on sockets, not on deciding).
 * Windows are a day long: nothing refills during a burst. The decision timeout is raised and
 * failMode is 'closed' so that a decision slowed down by the load shows as a 503 rather than
 * being silently admitted: this process is client and servers at once on a loaded machine
 * (timeouts themselves are tested in fail-mode.spec.ts and decision-timeout.spec.ts).
 * It runs on the module's own ioredis client (a URL), on both adapters, and on node-redis
 * clients the apps pass (one client per app, as separate instances would have), for two
 * algorithms: the script is the same whatever the client, the transport is what differs.
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

type Client = 'url' | 'node-redis';
const VARIANTS: Array<[AdapterName, Client]> = [...ADAPTERS.map((adapter): [AdapterName, Client] => [adapter, 'url']), ['express', 'node-redis']];

const moduleFor = (redis: RateLimitModuleOptions['redis'], keyPrefix: string) => ({
  imports: [RateLimitModule.forRoot({ redis, keyPrefix, tracker: clientHeaderTracker, timeout: 20_000, failMode: 'closed' })],
  controllers: CONTROLLERS,
});

/** Clients the apps of a test passed; closed after the apps. */
const passed: PassedClient[] = [];
async function redisFor(client: Client): Promise<RateLimitModuleOptions['redis']> {
  if (client === 'url') return redis.url;
  const made = await standaloneClient('node-redis', redis.port);
  passed.push(made);
  return made.client as RateLimitModuleOptions['redis'];
}

/** Generous: on a shared 2-core machine under load a burst can take many times its usual second or two. */
const BURST_TIMEOUT_MS = 90_000;

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await Promise.all(passed.map((client) => client.close()));
  await redis.destroy();
});

const NODE_REDIS_ALGORITHMS: RateLimitAlgorithm[] = ['sliding-log', 'gcra'];

describe.each(VARIANTS)('concurrency on %s, redis: %s', (adapter, client) => {
  const keyPrefix = `conc-${adapter}-${client}`;
  const algorithms = client === 'url' ? ALGORITHMS : NODE_REDIS_ALGORITHMS;
  describe('one application', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(adapter, moduleFor(await redisFor(client), keyPrefix));
    });
    afterAll(() => app.close());

    it.each(algorithms)('%s: 1,000 concurrent requests against limit: 100 admit exactly 100', async (algorithm) => {
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
      for (let i = 0; i < 3; i++) apps.push(await startApp(adapter, moduleFor(await redisFor(client), keyPrefix)));
    });
    afterAll(() => Promise.all(apps.map((app) => app.close())));

    it.each(algorithms)('%s: 1,000 concurrent requests spread round-robin over 3 instances admit exactly 100 in total', async (algorithm) => {
      const urls = Array.from({ length: REQUESTS }, (_, i) => `${apps[i % 3].url}/concurrency/${algorithm}`);
      const statuses = await burstStatuses(urls, { 'x-client': `three-apps-${algorithm}` });
      expect(countOf(statuses, 200)).toBe(LIMIT);
      expect(countOf(statuses, 429)).toBe(REQUESTS - LIMIT);
    }, BURST_TIMEOUT_MS);
  });
});
