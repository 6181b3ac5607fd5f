import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { StoreCall, StoreReply } from '../../lib/store/rate-limit-store.interface.js';
import { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import { ALGORITHMS, call } from '../memory/calls.js';
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
    const policy = call(algorithm, { key: 'one', limit: 37, windowMs: WINDOW_MS });
    const replies = await Promise.all(Array.from({ length: 100 }, () => store.decide([policy])));
    const calls = (await scriptCalls()) - before;

    expect(replies.map((r) => r[0])).toEqual([...Array<number>(37).fill(1), ...Array<number>(63).fill(0)]);
    expect(replies.slice(0, 37).map((r) => r[2])).toEqual(Array.from({ length: 37 }, (_, i) => 36 - i));
    // 100 keys at most 32 to a call, and far fewer calls than decisions.
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThan(20);
  });
});

/** The requests of a test: 1 to 3 policies each, over a few keys, with block keys, shadow, peeks and refunds. */
function requests(prefix: string): StoreCall[][] {
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  return Array.from({ length: 120 }, () =>
    Array.from({ length: 1 + next(3) }, (_, i) => {
      const algorithm = ALGORITHMS[next(ALGORITHMS.length)];
      return call(algorithm, {
        key: `${prefix}:${algorithm}:${i}:${next(3)}`,
        limit: 4 + i,
        windowMs: WINDOW_MS,
        cost: [1, 1, 2, 0, -1][next(5)],
        blockForMs: next(4) === 0 ? WINDOW_MS : 0,
        shadow: next(6) === 0,
      });
    }),
  );
}

/** What a reply says apart from times: allowed, then per policy allowed, remaining and whether a retry is never, now or later. */
const outcome = (reply: StoreReply) =>
  reply.map((value, i) => (i > 0 && i % 4 === 0 ? Math.sign(value) : i > 0 && i % 4 === 3 ? 'reset' : value));

it('answers each request of a mixed batch as a call of its own would', async () => {
  const batched = await Promise.all(requests('a').map((calls) => store.decide(calls)));
  const alone: StoreReply[] = [];
  for (const calls of requests('b')) alone.push(await store.decide(calls));

  expect(batched.map(outcome)).toEqual(alone.map(outcome));
  expect(batched.filter((r) => r[0] === 0).length).toBeGreaterThan(10);
  expect(batched.filter((r) => r[0] === 1).length).toBeGreaterThan(10);
});
