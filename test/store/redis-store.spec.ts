import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { algorithmNamed } from '../../lib/algorithms/algorithm-table.js';
import { giveBackOf } from '../../lib/store/give-back.js';
import type { ChargeHandle, StoreCall } from '../../lib/store/rate-limit-store.interface.js';
import { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import { RATE_ALGORITHMS as ALGORITHMS, T0, call as policyCall, decideFlat, type AlgorithmName } from '../memory/calls.js';
import { CLIENT_LIBRARIES, standaloneClient, type PassedClient } from '../support/redis-clients.js';
import { RedisServer } from '../support/redis-server.js';

let server: RedisServer;
/** For assertions on what the script wrote. */
let client: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  client = server.client();
});
afterAll(async () => {
  client.disconnect();
  await server.destroy();
});
beforeEach(() => client.flushall());

const call = (algorithm: AlgorithmName, over: Partial<StoreCall> = {}): StoreCall => ({
  key: `t:${algorithm}`,
  blockKey: undefined,
  algorithm: algorithmNamed(algorithm)!.code,
  limit: 5,
  windowMs: 10_000,
  burst: 5,
  cost: 1,
  blockForMs: 0,
  shadow: false,
  ...over,
});

describe.each(CLIENT_LIBRARIES)('the decide script through a %s client', (library) => {
  let passed: PassedClient;
  let store: RedisRateLimitStore;
  beforeAll(async () => {
    passed = await standaloneClient(library, server.port);
    store = new RedisRateLimitStore(passed.client as never);
  });
  afterAll(() => passed.close());

  describe.each(ALGORITHMS)('%s script', (algorithm) => {
    it('admits exactly limit units, then denies with a retry time that works', async () => {
      const c = call(algorithm);
      for (let i = 0; i < 5; i++) {
        const [allowed, , remaining] = await decideFlat(store, [c], T0 + i);
        expect([allowed, remaining]).toEqual([1, 4 - i]);
      }
      const denied = await decideFlat(store, [c], T0 + 10);
      expect(denied[0]).toBe(0);
      const retryMs = denied[4];
      expect(retryMs).toBeGreaterThan(0);
      expect((await decideFlat(store, [c], T0 + 10 + (retryMs - 1) * 1000))[0]).toBe(0);
      expect((await decideFlat(store, [c], T0 + 10 + retryMs * 1000))[0]).toBe(1);
    });

    it('charges cost units, denies cost above capacity with no retry, and charges nothing when denied', async () => {
      expect(await decideFlat(store, [call(algorithm, { cost: 3 })], T0)).toEqual([1, 1, 2, expect.any(Number), 0]);
      expect(await decideFlat(store, [call(algorithm, { cost: 6 })], T0)).toEqual([0, 0, 2, expect.any(Number), -1]);
      expect((await decideFlat(store, [call(algorithm, { cost: 3 })], T0))[0]).toBe(0);
      expect((await decideFlat(store, [call(algorithm, { cost: 2 })], T0)).slice(0, 3)).toEqual([1, 1, 0]);
    });

    it('bounds state written by a clock running an hour ahead to one horizon, and Retry-After holds', async () => {
      const c = call(algorithm);
      const hourUs = 3_600_000_000;
      for (let i = 0; i < 5; i++) await decideFlat(store, [c], T0 + hourUs + i);
      const denied = await decideFlat(store, [c], T0);
      expect(denied[0]).toBe(0);
      const retryMs = denied[4];
      expect(retryMs).toBeGreaterThan(0);
      expect(retryMs).toBeLessThanOrEqual(2 * 10_000);
      expect((await decideFlat(store, [c], T0 + retryMs * 1000))[0]).toBe(1);
    });

    it('never blocks on a peek, always applies a give-back, and reports nothing remaining while blocked', async () => {
      const c = call(algorithm, { blockKey: `t:${algorithm}:b`, blockForMs: 60_000 });
      let last: ChargeHandle | undefined;
      for (let i = 0; i < 5; i++) last = (await store.decideAt([c], T0)).results[0].charge;
      expect((await decideFlat(store, [{ ...c, cost: 0 }], T0))[0]).toBe(1);
      expect(await client.exists(`t:${algorithm}:b`)).toBe(0);
      const blocked = await decideFlat(store, [c], T0);
      expect(blocked.slice(0, 5)).toEqual([0, 0, 0, 60_000, 60_000]);
      const giveBack = await decideFlat(store, [giveBackOf(c, 1, last!)], T0);
      expect(giveBack.slice(0, 2)).toEqual([1, 1]);
    });

    it('gives every key it writes a TTL', async () => {
      await decideFlat(store, [call(algorithm)], 0);
      const ttl = await client.pttl(`t:${algorithm}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * 10_000 + 1000);
    });
  });

  /** Script calls made so far (the first on a connection is an EVAL, the rest EVALSHA). */
  async function scriptCalls(): Promise<number> {
    const stats = await client.info('commandstats');
    return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  // A long window: no unit comes back while a test runs.
  const WINDOW_MS = 600_000;

  describe.each(ALGORITHMS)('%s: the decisions of one event-loop turn', (algorithm) => {
    it('share script calls and are decided exactly, in the order asked', async () => {
      const before = await scriptCalls();
      const policy = policyCall(algorithm, { key: 'one', limit: 37, windowMs: WINDOW_MS });
      const replies = await Promise.all(Array.from({ length: 100 }, () => decideFlat(store, [policy])));
      const calls = (await scriptCalls()) - before;

      expect(replies.map((r) => r[0])).toEqual([...Array<number>(37).fill(1), ...Array<number>(63).fill(0)]);
      expect(replies.slice(0, 37).map((r) => r[2])).toEqual(Array.from({ length: 37 }, (_, i) => 36 - i));
      // 100 keys at most 32 to a call, and far fewer calls than decisions.
      expect(calls).toBeGreaterThanOrEqual(4);
      expect(calls).toBeLessThan(20);
    });
  });

  /** The requests of a test: 1 to 3 policies each, over a few keys, with block keys, shadow, peeks and give-backs. */
  function requests(prefix: string): StoreCall[][] {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    return Array.from({ length: 120 }, () =>
      Array.from({ length: 1 + next(3) }, (_, i) => {
        const algorithm = ALGORITHMS[next(ALGORITHMS.length)];
        const cost = [1, 1, 2, 0, -1][next(5)];
        const made = policyCall(algorithm, {
          key: `${prefix}:${algorithm}:${i}:${next(3)}`,
          limit: 4 + i,
          windowMs: WINDOW_MS,
          cost: Math.max(0, cost),
          blockForMs: next(4) === 0 ? WINDOW_MS : 0,
          shadow: next(6) === 0,
        });
        // A give-back naming no charge of this key: it applies and credits nothing.
        return cost < 0 ? giveBackOf(made, 1, { value: 1, seq: 0 }) : made;
      }),
    );
  }

  /** What a reply says apart from times: allowed, then per policy allowed, remaining and whether a retry is never, now or later. */
  const outcome = (reply: number[]) =>
    reply.map((value, i) => (i > 0 && i % 4 === 0 ? Math.sign(value) : i > 0 && i % 4 === 3 ? 'reset' : value));

  it('answers each request of a mixed batch as a call of its own would', async () => {
    const batched = await Promise.all(requests('a').map((calls) => decideFlat(store, calls)));
    const alone: number[][] = [];
    for (const calls of requests('b')) alone.push(await decideFlat(store, calls));

    expect(batched.map(outcome)).toEqual(alone.map(outcome));
    expect(batched.filter((r) => r[0] === 0).length).toBeGreaterThan(10);
    expect(batched.filter((r) => r[0] === 1).length).toBeGreaterThan(10);
  });
});
