/**
 * Keys under the prefix that hold data the script did not write (another type, an unparsable
 * value), decided in one batched script call together with healthy requests: the batch never
 * fails, the healthy decisions are untouched, and the poisoned request is decided as on an empty
 * key. The poisoned key is replaced by the next write and left as it is (type, value, TTL) by a
 * peek or a denial.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { StoreCall } from '../../lib/store/rate-limit-store.interface.js';
import { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import { ALGORITHMS, call, decideFlat, type AlgorithmName } from '../memory/calls.js';
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

/** Script calls made so far (EVAL and EVALSHA). */
async function scriptCalls(): Promise<number> {
  const stats = await client.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Requests asked for in one event-loop turn: the store sends them in one script call (under 32 keys). */
const oneTurn = (requests: StoreCall[][]): Promise<number[][]> => Promise.all(requests.map((calls) => decideFlat(store, calls)));

// A long window: nothing comes back while a test runs.
const W = 600_000;
const L = 3;
/** Bound of every TTL these policies write: the longest horizon (2·W, sliding-window) + 1 s. */
const MAX_TTL = 2 * W + 1000;

type Target = 'state' | 'block';
type Poison = (key: string) => Promise<unknown>;

const STRING_POISONS: Record<string, Poison> = {
  'a hash': (key) => client.hset(key, 'used', '1'),
  'a list': (key) => client.rpush(key, '1', '2'),
  'a sorted set': (key) => client.zadd(key, '+inf', '1:1:1'),
  'an empty string': (key) => client.set(key, ''),
  'a word': (key) => client.set(key, 'not a state'),
  'negative numbers': (key) => client.set(key, '-1:-2:-3'),
  'a float': (key) => client.set(key, '9.9e15'),
  'a hexadecimal number': (key) => client.set(key, '0xFFFFFFFFFFFFFF'),
};
const LOG_POISONS: Record<string, Poison> = {
  'a string': (key) => client.set(key, '1700000000000:1:1'),
  'a hash': (key) => client.hset(key, 'used', '1'),
  'a list': (key) => client.rpush(key, '1', '2'),
  'a sorted set of other members': (key) => client.zadd(key, '+inf', 'member'),
  // Read in order: a member in the log's format, then one that is not.
  'a sorted set that is partly a log': (key) => client.zadd(key, '+inf', '9999999999999:1:1', '+inf', 'x:1:1'),
};
const BLOCK_POISONS: Record<string, Poison> = {
  'a hash': (key) => client.hset(key, 'until', '9999999999999'),
  'a list': (key) => client.rpush(key, '9999999999999'),
  'a sorted set': (key) => client.zadd(key, '+inf', '9999999999999'),
  'a word': (key) => client.set(key, 'soon'),
  'a float': (key) => client.set(key, '9.9e12'),
};

const CASES: Array<[AlgorithmName, Target, string, Poison]> = ALGORITHMS.flatMap((algorithm) => [
  ...Object.entries(algorithm === 'sliding-log' ? LOG_POISONS : STRING_POISONS).map(([kind, poison]): [AlgorithmName, Target, string, Poison] => [algorithm, 'state', kind, poison]),
  ...Object.entries(BLOCK_POISONS).map(([kind, poison]): [AlgorithmName, Target, string, Poison] => [algorithm, 'block', kind, poison]),
]);

/**
 * What the poisoned request does, one request each: peek; be denied by another policy of its
 * request; ask for more than the capacity; be admitted (a write); be denied by its own exhausted
 * state, which starts a block (a write of the block key).
 */
type Mode = 'peek' | 'denied' | 'hopeless' | 'admitted' | 'blocking';
const MODES: Record<Target, Mode[]> = { state: ['peek', 'denied', 'hopeless', 'admitted'], block: ['peek', 'denied', 'admitted', 'blocking'] };
/** The modes that write the poisoned key. */
const WRITES: Record<Target, Mode> = { state: 'admitted', block: 'blocking' };
const ALLOWED: Record<Mode, number> = { peek: 1, denied: 0, hopeless: 0, admitted: 1, blocking: 0 };

const COST: Record<Mode, number> = { peek: 0, denied: 1, hopeless: L + 1, admitted: 1, blocking: 1 };
const subject = (algorithm: AlgorithmName, target: Target, key: string, cost: number) =>
  call(algorithm, { key, limit: L, windowMs: W, cost, blockForMs: target === 'block' ? W : 0 });
const other = (key: string) => call('fixed-window', { key, limit: 1, windowMs: W });

/** Side 'p' holds the poisoned keys, side 'q' the same requests on empty keys. */
function requestsOf(side: 'p' | 'q', algorithm: AlgorithmName, target: Target): StoreCall[][] {
  return MODES[target].map((mode) => {
    const policy = subject(algorithm, target, `${side}:${mode}`, COST[mode]);
    return mode === 'denied' ? [other(`${side}:${mode}:other`), policy] : [policy];
  });
}
const seedsOf = (side: 'p' | 'q', algorithm: AlgorithmName, target: Target): StoreCall[][] => [
  [other(`${side}:denied:other`)],
  ...(target === 'block' ? [[subject(algorithm, target, `${side}:blocking`, L)]] : []),
];
const poisonedKey = (mode: Mode, target: Target) => (target === 'state' ? `p:${mode}` : `p:${mode}:b`);

/** Healthy requests, one of them denied, on keys of side 'a' or its twin 'b'. */
const healthy = (side: 'a' | 'b'): StoreCall[][] => [
  [call('gcra', { key: `${side}:1`, limit: 5, windowMs: W })],
  [call('fixed-window', { key: `${side}:2`, limit: 2, windowMs: W })],
  [call('sliding-log', { key: `${side}:3`, limit: 4, windowMs: W, cost: 2 }), call('sliding-window', { key: `${side}:4`, limit: 4, windowMs: W })],
];
const healthySeeds = (side: 'a' | 'b'): StoreCall[][] => [
  [call('fixed-window', { key: `${side}:2`, limit: 2, windowMs: W, cost: 2 })],
  [call('sliding-log', { key: `${side}:3`, limit: 4, windowMs: W })],
];

const snapshot = async (key: string) => ({ type: await client.type(key), dump: await client.dumpBuffer(key), pttl: await client.pttl(key) });

describe.each(CASES)('%s, a %s key holding %s', (algorithm, target, _kind, poison) => {
  it('is decided as an empty key in the same call as healthy requests, which it leaves exactly as they are', async () => {
    // Both sides of each pair are seeded in one call, so their states are equal to the µs.
    await oneTurn([...healthySeeds('a'), ...healthySeeds('b'), ...seedsOf('p', algorithm, target), ...seedsOf('q', algorithm, target)]);
    for (const mode of MODES[target]) await poison(poisonedKey(mode, target));
    const before = new Map(await Promise.all(MODES[target].map(async (mode) => [mode, await snapshot(poisonedKey(mode, target))] as const)));
    for (const { pttl } of before.values()) expect(pttl).toBe(-1);

    // The healthy requests of 'a' are decided before the poisoned ones, their twins of 'b' after.
    const calls0 = await scriptCalls();
    const replies = await oneTurn([...healthy('a'), ...requestsOf('p', algorithm, target), ...healthy('b'), ...requestsOf('q', algorithm, target)]);
    expect((await scriptCalls()) - calls0).toBe(1);

    const n = MODES[target].length;
    const [a, p, b, q] = [replies.slice(0, 3), replies.slice(3, 3 + n), replies.slice(3 + n, 6 + n), replies.slice(6 + n)];
    expect(a.map((r) => r[0])).toEqual([1, 0, 1]);
    expect(b).toEqual(a);
    expect(p).toEqual(q);
    expect(q.map((r) => r[0])).toEqual(MODES[target].map((mode) => ALLOWED[mode]));

    for (const mode of MODES[target]) {
      const after = await snapshot(poisonedKey(mode, target));
      if (mode === WRITES[target]) {
        expect(after.type).toBe(target === 'block' || algorithm !== 'sliding-log' ? 'string' : 'zset');
        expect(after.pttl).toBeGreaterThan(0);
        expect(after.pttl).toBeLessThanOrEqual(MAX_TTL);
      } else {
        expect(after).toEqual(before.get(mode));
      }
    }
  });

  it('is replaced by the first write, and then counts as this script\'s own state', async () => {
    await oneTurn([...seedsOf('p', algorithm, target), ...seedsOf('q', algorithm, target)]);
    const mode = WRITES[target];
    await poison(poisonedKey(mode, target));
    const [p, q] = await oneTurn([[subject(algorithm, target, `p:${mode}`, COST[mode])], [subject(algorithm, target, `q:${mode}`, COST[mode])]]);
    expect(p).toEqual(q);

    const [p2, q2] = await oneTurn([[subject(algorithm, target, `p:${mode}`, 1)], [subject(algorithm, target, `q:${mode}`, 1)]]);
    expect(p2).toEqual(q2);
    // A second unit after the first (state), or a request while the block holds (block).
    expect(p2.slice(0, 3)).toEqual(target === 'state' ? [1, 1, L - 2] : [0, 0, 0]);
  });
});
