import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisServer } from '../support/redis-server.js';
import { countOf, request } from '../support/http-app.js';
import { startSampleInstances, type SampleInstances } from './sample-instances.js';
import { TOKENS_PER_MINUTE } from '../../sample/src/llm/completions.controller.js';

let redis: RedisServer;
let instances: SampleInstances;
let keys = 0;
const freshKey = (plan: string) => `${plan}_${++keys}`;
const MINUTE_MS = 60_000;
/** The token bucket of /llm/completions gives one token back every 30 ms. */
const TOKEN_MS = MINUTE_MS / TOKENS_PER_MINUTE;

beforeAll(async () => {
  redis = await RedisServer.start();
  instances = await startSampleInstances(2, redis.url);
});
afterAll(async () => {
  await instances.close();
  await redis.destroy();
});

/** Sends `count` requests one after the other, alternating between the instances. */
async function statuses(count: number, path: string, init: RequestInit = {}): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < count; i++) results.push((await request(instances.urls[i % 2] + path, init)).status);
  return results;
}

const login = (username: string, password: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username, password }),
});

const completion = (apiKey: string, maxTokens: number) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
  body: JSON.stringify({ prompt: 'Hello', maxTokens }),
});

describe('tiers', () => {
  /**
   * The reports route is a sliding window aligned to whole minutes. Within one window a fresh key
   * gets exactly `limit`; if a minute boundary passes during the requests, the previous window
   * weighs (W - e) / W, so at most limit * e / W more pass, e being the time since the boundary.
   */
  async function expectLimit(plan: 'free' | 'premium', limit: number) {
    const started = performance.now();
    const results = await statuses(limit + 2, '/api/reports', { headers: { 'x-api-key': freshKey(plan) } });
    const elapsedMs = performance.now() - started;
    expect(results.slice(0, limit)).toEqual(Array(limit).fill(200));
    expect(countOf(results, 200)).toBeLessThanOrEqual(limit + Math.floor((limit * elapsedMs) / MINUTE_MS));
    expect(countOf(results, 200) + countOf(results, 429)).toBe(limit + 2);
  }

  it('gives a free API key 10 reports a minute and a premium one 50', async () => {
    await expectLimit('free', 10);
    await expectLimit('premium', 50);
  });
});

describe('GCRA with a burst', () => {
  it('admits a burst of 10 at once, then denies with both header styles', async () => {
    const headers = { 'x-api-key': freshKey('demo') };
    const first = await request(`${instances.urls[0]}/api/items`, { headers });
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-remaining']).toBe('9');
    expect(first.headers['ratelimit-policy']).toBe('"default";q=120;w=60');
    const rest = await Promise.all(Array.from({ length: 39 }, (_, i) => request(`${instances.urls[i % 2]}/api/items`, { headers })));
    expect(countOf(rest.map((r) => r.status), 200)).toBeGreaterThanOrEqual(9);
    expect(countOf(rest.map((r) => r.status), 429)).toBeGreaterThan(0);
  });
});

describe('concurrency', () => {
  it('runs at most 2 exports of an API key at once across the instances, and frees the slots when they end', async () => {
    const headers = { 'x-api-key': freshKey('demo') };
    const exports = await Promise.all(Array.from({ length: 3 }, (_, i) => request(`${instances.urls[i % 2]}/api/export`, { headers })));
    expect(exports.map((r) => r.status).sort()).toEqual([200, 200, 429]);
    const denied = exports.find((r) => r.status === 429)!;
    expect(denied.headers['retry-after']).toBe('1');
    expect(String(exports.find((r) => r.status === 200)!.body).split('\n').filter(Boolean)).toHaveLength(6);
    expect((await request(`${instances.urls[1]}/api/export`, { headers })).status).toBe(200);
  });
});

describe('weighted cost', () => {
  it('reserves the tokens a completion asks for, then charges the usage the model reports (settle)', async () => {
    const apiKey = freshKey('demo');
    const results = [];
    const started = performance.now();
    for (let i = 0; i < 3; i++) results.push(await request(`${instances.urls[i % 2]}/llm/completions`, completion(apiKey, 800)));
    const elapsedMs = performance.now() - started;
    // Without settle the third would be denied (3 x 800 > 2000); each keeps only its 17 tokens.
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results[0].body).toMatchObject({ instance: 'instance-1', usage: { totalTokens: 17 } });
    // Headers show the budget with this request's reservation taken; a fresh bucket is full, so
    // the first is exact, and later ones see at most the tokens that came back meanwhile.
    const remaining = results.map((r) => Number(r.headers['x-ratelimit-remaining']));
    expect(remaining[0]).toBe(1200);
    expect(remaining[2]).toBeGreaterThanOrEqual(2000 - 2 * 17 - 800);
    expect(remaining[2]).toBeLessThanOrEqual(2000 - 2 * 17 - 800 + Math.floor(elapsedMs / TOKEN_MS));
  });

  it('denies a completion larger than the whole budget with no retry time', async () => {
    const response = await request(`${instances.urls[0]}/llm/completions`, completion(freshKey('demo'), 5000));
    expect(response.status).toBe(429);
    expect(response.body).toMatchObject({ retryAfter: null });
    expect(response.headers['retry-after']).toBeUndefined();
  });
});

describe('login', () => {
  it('blocks an account for 15 minutes after 5 failed attempts, on every instance', async () => {
    expect(await statuses(6, '/auth/login', login('mallory', 'guess'))).toEqual([401, 401, 401, 401, 401, 429]);
    const blocked = await request(`${instances.urls[1]}/auth/login`, login('Mallory', 'guess'));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(800);
  });

  it('gives the account its full budget back after a successful login', async () => {
    expect(await statuses(4, '/auth/login', login('alice', 'nope'))).toEqual([401, 401, 401, 401]);
    expect((await request(`${instances.urls[0]}/auth/login`, login('Alice', 'wonderland'))).status).toBe(200);
    expect(await statuses(6, '/auth/login', login('alice', 'nope'))).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
