/**
 * Several Nest instances as SEPARATE PROCESSES (test/support/sample-process.ts, run from the
 * TypeScript sources through SWC) share one Redis: a client spreading 1,000 concurrent requests
 * over them is admitted exactly `limit` times, for every algorithm.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { get } from 'node:http';
import { countOf } from '../support/http-app.js';
import { ALGORITHMS } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';
import { startSampleProcess, type SampleProcess } from '../support/sample-process-runner.js';

const INSTANCES = 3;
const LIMIT = 100;
const REQUESTS = 1000;

/**
 * One GET on a connection of its own (no keep-alive): a pooled socket that the server closed
 * while idle between two bursts would otherwise fail a request with "other side closed".
 */
function fresh(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    }).on('error', reject);
  });
}

let redis: RedisServer;
let instances: SampleProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  instances = await Promise.all(Array.from({ length: INSTANCES }, () => startSampleProcess({ REDIS_URL: redis.url, LIMIT: String(LIMIT) })));
}, 90_000);
afterAll(async () => {
  await Promise.all(instances.map((i) => i.stop()));
  await redis?.destroy();
});

describe(`${INSTANCES} Nest processes sharing one Redis`, () => {
  it('are separate processes', () => {
    expect(new Set(instances.map((i) => i.pid)).size).toBe(INSTANCES);
    expect(instances.map((i) => i.pid)).not.toContain(process.pid);
  });

  it.each(ALGORITHMS)(`%s: ${REQUESTS} concurrent requests spread over the processes admit exactly ${LIMIT}`, async (algorithm) => {
    const headers = { 'x-client': `spread-${algorithm}` };
    const results = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) => fresh(`${instances[i % INSTANCES].url}/limited/${algorithm}`, headers)),
    );
    const statuses = results.map((r) => r.status);
    expect(countOf(statuses, 200)).toBe(LIMIT);
    expect(countOf(statuses, 429)).toBe(REQUESTS - LIMIT);
    // Each process was sent far more than LIMIT requests, and answered its own: budgets of their
    // own would have admitted LIMIT each. Which processes win the race to the one budget varies
    // with scheduling (one may decide a whole batch first), so it is not asserted.
    const misrouted = results.filter((r, i) => r.status === 200 && (r.body as { pid: number }).pid !== instances[i % INSTANCES].pid);
    expect(misrouted).toEqual([]);
    // And every process now sees the shared budget spent.
    const after = await Promise.all(instances.map((instance) => fresh(`${instance.url}/limited/${algorithm}`, headers)));
    expect(after.map((r) => r.status)).toEqual(Array(INSTANCES).fill(429));
  });
});
