import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { RateLimiterService, RateLimitModule, type RateLimitEvent, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';

/**
 * Leases (DESIGN.md, Performance → Leases): an instance takes up to `lease` units in one call and
 * spends them locally. Charges never exceed the algorithm's bound, whatever the instances hold;
 * fixed-window units left over go back into their window.
 */

let server: RedisServer;
let client: Redis;
beforeAll(async () => {
  server = await RedisServer.start();
  client = server.client();
});
afterAll(async () => {
  client.disconnect();
  await server.destroy();
});
beforeEach(async () => {
  await client.flushall();
  await client.config('RESETSTAT');
});

interface Instance {
  limiter: RateLimiterService;
  events: RateLimitEvent[];
  /** Shuts the instance down (once: later calls wait for the first). */
  close(): Promise<void>;
}

/** One app instance (its own module, engine and leases) on the shared Redis. */
async function instance(): Promise<Instance> {
  const events: RateLimitEvent[] = [];
  const module = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot({ redis: server.url, keyPrefix: 'lease', timeout: 5_000, onDecision: (e) => events.push(e) })],
  }).compile();
  module.useLogger(false);
  await module.init();
  let closed: Promise<void> | undefined;
  return { limiter: module.get(RateLimiterService), events, close: () => (closed ??= module.close()) };
}

/** Calls of these commands Redis has run since the last RESETSTAT (INFO commandstats, scripts' own commands included). */
async function commandCalls(pattern: string): Promise<number> {
  const info = await client.info('commandstats');
  let calls = 0;
  for (const [, n] of info.matchAll(new RegExp(`^cmdstat_(?:${pattern}):calls=(\\d+)`, 'gm'))) calls += Number(n);
  return calls;
}
/** Script calls: every decision batch and give-back. */
const scriptCalls = () => commandCalls('evalsha|eval');
/** Writes of a fixed window's state (SET, or INCRBY of an open window's count): one per charge, so one per take. */
const stateWrites = () => commandCalls('set|incrby');

/** `callers` concurrent loops of `rounds` consumes each; the number admitted. */
async function hammer(limiters: RateLimiterService[], key: string, policy: RateLimitPolicy, callers: number, rounds: number): Promise<number> {
  let admitted = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      const limiter = limiters[i % limiters.length];
      for (let r = 0; r < rounds; r++) if ((await limiter.consume(key, policy)).allowed) admitted++;
    }),
  );
  return admitted;
}

/** A fresh instance's view of the budget (a peek goes to Redis). */
async function storeRemaining(key: string, policy: RateLimitPolicy): Promise<number> {
  const probe = await instance();
  try {
    return (await probe.limiter.peek(key, policy)).remaining;
  } finally {
    await probe.close();
  }
}

describe('one instance, a hot key', () => {
  let one: Instance;
  beforeAll(async () => {
    one = await instance();
  });
  afterAll(() => one.close());

  it.each([10, 100])('64 concurrent callers of one tracker make at most 1/lease + 0.01 Redis calls per decision (lease %i)', async (lease) => {
    const policy: RateLimitPolicy = { bucket: `hot-${lease}`, limit: 1_000_000, window: '1h', lease };
    const [calls0, writes0] = [await scriptCalls(), await stateWrites()];
    const decisions = 64 * 30;
    expect(await hammer([one.limiter], 'hot', policy, 64, 30)).toBe(decisions);
    const [calls, writes] = [(await scriptCalls()) - calls0, (await stateWrites()) - writes0];
    expect(calls / decisions).toBeLessThanOrEqual(1 / lease + 0.01);
    // Takes, not only calls (a batch carries several): callers share a refill while its units cover them.
    expect(writes / decisions).toBeLessThanOrEqual(1 / lease + 0.01);
  });

  it('a lone caller sees the numbers it would see without a lease, down to the denial', async () => {
    const policy: RateLimitPolicy = { bucket: 'lone', limit: 10, window: '1h', lease: 3 };
    const seen: Array<[boolean, number]> = [];
    for (let i = 0; i < 11; i++) {
      const d = await one.limiter.consume('lone', policy);
      seen.push([d.allowed, d.remaining]);
    }
    expect(seen).toEqual([...Array.from({ length: 10 }, (_, i): [boolean, number] => [true, 9 - i]), [false, 0]]);
  });

  it('reports every locally admitted decision to onDecision', async () => {
    const policy: RateLimitPolicy = { bucket: 'events', limit: 100, window: '1h', lease: 10 };
    one.events.length = 0;
    const before = await scriptCalls();
    for (let i = 0; i < 20; i++) await one.limiter.consume('events', policy);
    expect(await scriptCalls()).toBe(before + 2);
    expect(one.events.filter((e) => e.outcome === 'allowed' && e.policy === 'default')).toHaveLength(20);
  });

  it('reset() drops the local lease with the budget', async () => {
    const policy: RateLimitPolicy = { bucket: 'reset', limit: 20, window: '1h', lease: 5 };
    for (let i = 0; i < 7; i++) await one.limiter.consume('reset', policy);
    await one.limiter.reset('reset', policy);
    // A kept lease would answer from before the reset (remaining 12); a new one takes afresh.
    expect(await one.limiter.consume('reset', policy)).toMatchObject({ allowed: true, remaining: 19 });
    expect(await storeRemaining('reset', policy)).toBe(15);
  });
});

describe('4 instances on one Redis', () => {
  let instances: Instance[];
  beforeEach(async () => {
    instances = await Promise.all([instance(), instance(), instance(), instance()]);
  });
  const closeAll = () => Promise.all(instances.map((i) => i.close()));
  afterEach(async () => {
    await Promise.all(instances.map((i) => i.close()));
  });

  it('fixed-window: admits at most limit per window, and shutdown gives the unspent units back into it', async () => {
    const policy: RateLimitPolicy = { bucket: 'fw', limit: 100, window: '1h', lease: 10 };
    const admitted = await hammer(
      instances.map((i) => i.limiter),
      'fw',
      policy,
      64,
      4,
    );
    expect(admitted).toBeLessThanOrEqual(100);
    await closeAll();
    // Every leased unit not spent came back: Redis holds exactly what was admitted.
    expect(await storeRemaining('fw', policy)).toBe(100 - admitted);
  });

  it('fixed-window: units an instance leased and did not spend are reusable in the same window', async () => {
    const policy: RateLimitPolicy = { bucket: 'reuse', limit: 30, window: '1h', lease: 10 };
    const [a, b, c] = instances;
    expect(await a.limiter.consume('reuse', policy)).toMatchObject({ allowed: true, remaining: 29 });
    // a holds 9 units: b gets what is left in Redis, then is denied.
    let admitted = 0;
    while ((await b.limiter.consume('reuse', policy)).allowed && admitted < 30) admitted++;
    expect(admitted).toBe(20);
    await a.close();
    // a gave its 9 back into the window, which is still open: c (whose deny cache holds no
    // denial, unlike b's) gets them.
    for (let i = 0; i < 9; i++) expect((await c.limiter.consume('reuse', policy)).allowed).toBe(true);
    expect((await c.limiter.consume('reuse', policy)).allowed).toBe(false);
  });

  it('fixed-window: shutdown waits for a refill in flight and gives its units back', async () => {
    const policy: RateLimitPolicy = { bucket: 'landing', limit: 20, window: '1h', lease: 10 };
    const [a] = instances;
    // The refill is sent when consume() is called; the shutdown starts before it lands.
    const decided = a.limiter.consume('landing', policy);
    await a.close();
    expect((await decided).allowed).toBe(true);
    expect(await storeRemaining('landing', policy)).toBe(19);
  });

  it('fixed-window: a lease that ends before its window gives its units back without a shutdown', async () => {
    const policy: RateLimitPolicy = { bucket: 'expiry', limit: 10, window: '1h', lease: 5 };
    const [a, b] = instances;
    await a.limiter.consume('expiry', policy);
    expect(await storeRemaining('expiry', policy)).toBe(5);
    // The lease ends after at most 1 s and its 4 units go back; wait for it, bounded.
    let remaining = 5;
    for (let i = 0; i < 100 && remaining !== 9; i++) {
      await new Promise((r) => setTimeout(r, 50));
      remaining = (await b.limiter.peek('expiry', policy)).remaining;
    }
    expect(remaining).toBe(9);
  });

  it.each(['token-bucket', 'gcra'] as const)('%s: charges never exceed the bucket, and a lease gives nothing back', async (algorithm) => {
    // 20 a second at most, refilling 10 an hour: over the test the bound is the burst plus at most a unit or two.
    const policy: RateLimitPolicy = { algorithm, bucket: `b-${algorithm}`, limit: 10, window: '1h', burst: 20, lease: 4 };
    const started = performance.now();
    const admitted = await hammer(
      instances.map((i) => i.limiter),
      'b',
      policy,
      64,
      3,
    );
    const refilled = Math.ceil(((performance.now() - started) * 10) / 3_600_000);
    const before = await storeRemaining('b', policy);
    await closeAll();
    const after = await storeRemaining('b', policy);
    // What Redis charged: the burst minus what is left (plus the refill since the start); every
    // admitted request was charged before it was spent.
    const charged = 20 + refilled - after;
    expect(admitted).toBeLessThanOrEqual(charged);
    expect(admitted).toBeLessThanOrEqual(20 + refilled);
    expect(admitted).toBeGreaterThan(0);
    // Bucket leases give nothing back: shutdown left the state as it was (but for refill).
    expect(after - before).toBeLessThanOrEqual(refilled);
  });
});
