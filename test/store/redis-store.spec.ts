import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { ALGORITHM_CODES, type StoreCall } from '../../lib/store/rate-limit-store.interface.js';
import { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import { RedisServer } from '../support/redis-server.js';

let server: RedisServer;
let client: Redis;
let store: RedisRateLimitStore;

beforeAll(async () => {
  server = await RedisServer.start();
  client = server.client();
  store = new RedisRateLimitStore(client);
});
afterAll(async () => {
  client.disconnect();
  await server.destroy();
});
beforeEach(() => client.flushall());

const T0 = 1_700_000_000_000_000; // µs
const call = (algorithm: keyof typeof ALGORITHM_CODES, over: Partial<StoreCall> = {}): StoreCall => ({
  key: `t:${algorithm}`,
  blockKey: undefined,
  algorithm: ALGORITHM_CODES[algorithm],
  limit: 5,
  windowMs: 10_000,
  burst: 5,
  cost: 1,
  blockForMs: 0,
  shadow: false,
  ...over,
});

describe.each(Object.keys(ALGORITHM_CODES) as Array<keyof typeof ALGORITHM_CODES>)('%s script', (algorithm) => {
  it('admits exactly limit units, then denies with a retry time that works', async () => {
    const c = call(algorithm);
    for (let i = 0; i < 5; i++) {
      const [allowed, , remaining] = await store.decide([c], T0 + i);
      expect([allowed, remaining]).toEqual([1, 4 - i]);
    }
    const denied = await store.decide([c], T0 + 10);
    expect(denied[0]).toBe(0);
    const retryMs = denied[4];
    expect(retryMs).toBeGreaterThan(0);
    expect((await store.decide([c], T0 + 10 + (retryMs - 1) * 1000))[0]).toBe(0);
    expect((await store.decide([c], T0 + 10 + retryMs * 1000))[0]).toBe(1);
  });

  it('charges cost units, denies cost above capacity with no retry, and charges nothing when denied', async () => {
    expect(await store.decide([call(algorithm, { cost: 3 })], T0)).toEqual([1, 1, 2, expect.any(Number), 0]);
    expect(await store.decide([call(algorithm, { cost: 6 })], T0)).toEqual([0, 0, 2, expect.any(Number), -1]);
    expect((await store.decide([call(algorithm, { cost: 3 })], T0))[0]).toBe(0);
    expect((await store.decide([call(algorithm, { cost: 2 })], T0)).slice(0, 3)).toEqual([1, 1, 0]);
  });

  it('bounds state written by a clock running an hour ahead to one horizon, and Retry-After holds', async () => {
    const c = call(algorithm);
    const hourUs = 3_600_000_000;
    for (let i = 0; i < 5; i++) await store.decide([c], T0 + hourUs + i);
    const denied = await store.decide([c], T0);
    expect(denied[0]).toBe(0);
    const retryMs = denied[4];
    expect(retryMs).toBeGreaterThan(0);
    expect(retryMs).toBeLessThanOrEqual(2 * 10_000);
    expect((await store.decide([c], T0 + retryMs * 1000))[0]).toBe(1);
  });

  it('never blocks on a peek, always applies a refund, and reports nothing remaining while blocked', async () => {
    const c = call(algorithm, { blockKey: `t:${algorithm}:b`, blockForMs: 60_000 });
    for (let i = 0; i < 5; i++) await store.decide([c], T0);
    expect((await store.decide([{ ...c, cost: 0 }], T0))[0]).toBe(1);
    expect(await client.exists(`t:${algorithm}:b`)).toBe(0);
    const blocked = await store.decide([c], T0);
    expect(blocked.slice(0, 5)).toEqual([0, 0, 0, 60_000, 60_000]);
    const refund = await store.decide([{ ...c, cost: -1 }], T0);
    expect(refund.slice(0, 2)).toEqual([1, 1]);
  });

  it('gives every key it writes a TTL', async () => {
    await store.decide([call(algorithm)], 0);
    const ttl = await client.pttl(`t:${algorithm}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * 10_000 + 1000);
  });
});
