import { afterAll, beforeAll, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { MemoryRateLimitStore } from '../../lib/store/memory/memory-rate-limit-store.js';
import type { StoreCall } from '../../lib/store/rate-limit-store.interface.js';
import { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import { RedisServer } from '../support/redis-server.js';
import { ALGORITHMS, T0, call, type AlgorithmName } from './calls.js';

// Sequences per algorithm; RATE_LIMIT_PARITY_RUNS raises it for a long run.
const RUNS = Number(process.env.RATE_LIMIT_PARITY_RUNS) || 1500;

let server: RedisServer;
let client: Redis;
let redisStore: RedisRateLimitStore;

/**
 * The scripts are fed a simulated `now`, but Redis expires keys on its own clock, which would
 * drop state the simulated time still holds. This client runs the store's registered command
 * in a MULTI that then PERSISTs its keys (time stands still inside EXEC), so only the values
 * decide, as the Lua reads them. The memory store still expires on its TTLs: any TTL shorter
 * than what the values keep alive shows up as a mismatch.
 */
function persistingClient(redis: Redis): Redis {
  const keyCounts = new Map<string, number>();
  return new Proxy(redis, {
    get(target, property, receiver) {
      if (property === 'defineCommand') {
        return (name: string, definition: { numberOfKeys: number; lua: string }) => {
          keyCounts.set(name, definition.numberOfKeys);
          target.defineCommand(name, definition);
        };
      }
      const keys = typeof property === 'string' ? keyCounts.get(property) : undefined;
      if (keys === undefined) return Reflect.get(target, property, receiver);
      return async (...args: Array<string | number>) => {
        const multi = target.multi() as unknown as Record<string, (...a: unknown[]) => unknown> & { exec(): Promise<Array<[Error | null, unknown]>> };
        multi[property as string](...args);
        for (const key of args.slice(0, keys)) multi.persist(key);
        const [[error, reply]] = await multi.exec();
        if (error) throw error;
        return reply;
      };
    },
  });
}

beforeAll(async () => {
  server = await RedisServer.start();
  client = server.client();
  redisStore = new RedisRateLimitStore(persistingClient(client));
});
afterAll(async () => {
  await client.quit();
  await server.destroy();
});

interface Policy {
  algorithm: AlgorithmName;
  /** Two tiers (a limit change, as `limit: (ctx) => ...` gives); equal when the policy has one. */
  limits: [number, number];
  bursts: [number, number];
  windowMs: number;
  blockForMs: number;
  shadow: boolean;
}

interface Step {
  dtUs: number;
  client: number;
  /** Which policies of the set this request is decided against (at least one). */
  mask: number;
  tier: 0 | 1;
  costs: number[];
}

const limitArb = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 8 }), weight: 4 }, { arbitrary: fc.integer({ min: 9, max: 300 }), weight: 1 });
const windowArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 20 }), weight: 1 }, // heavy rounding of T = ceil(W·1000/L)
  { arbitrary: fc.integer({ min: 21, max: 5_000 }), weight: 3 },
  { arbitrary: fc.constantFrom(60_000, 3_600_000), weight: 1 },
);

function policyArb(algorithm: fc.Arbitrary<AlgorithmName>): fc.Arbitrary<Policy> {
  return fc
    .record({
      algorithm,
      limit: limitArb,
      tierLimit: fc.option(limitArb, { freq: 3 }),
      burst: fc.option(fc.integer({ min: 1, max: 12 }), { freq: 2 }),
      windowMs: windowArb,
      blockFor: fc.option(fc.integer({ min: 1, max: 10_000 }), { freq: 3 }),
      shadow: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
    })
    .map(({ algorithm, limit, tierLimit, burst, windowMs, blockFor, shadow }) => {
      // A token bucket's stored credit is relative to its capacity, so a limit change is one of
      // the cases where Redis dropping the key on its TTL (which this test stops) matters.
      const second = algorithm === 'token-bucket' || tierLimit === null ? limit : tierLimit;
      const bursts: [number, number] = burst === null ? [limit, second] : [burst, algorithm === 'token-bucket' ? burst : burst + 1];
      return { algorithm, limits: [limit, second], bursts, windowMs, blockForMs: blockFor ?? 0, shadow };
    });
}

const dtArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 2_000 }), weight: 2 },
  { arbitrary: fc.integer({ min: 2_000, max: 5_000_000 }), weight: 3 },
  { arbitrary: fc.integer({ min: 5_000_000, max: 4_000_000_000 }), weight: 1 },
);

function stepsArb(policies: Policy[]): fc.Arbitrary<Step[]> {
  const costArb = (p: Policy) => {
    const capacity = Math.max(...(p.algorithm === 'token-bucket' || p.algorithm === 'gcra' ? p.bursts : p.limits));
    return fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: Math.min(capacity + 1, 3) }), weight: 6 },
      { arbitrary: fc.integer({ min: 0, max: capacity + 1 }), weight: 2 },
      { arbitrary: fc.integer({ min: -3, max: -1 }), weight: 1 },
    );
  };
  const step = fc.record({
    dtUs: dtArb,
    client: fc.integer({ min: 0, max: 2 }),
    mask: fc.integer({ min: 1, max: (1 << policies.length) - 1 }),
    tier: fc.constantFrom<0 | 1>(0, 1),
    costs: fc.tuple(...policies.map(costArb)),
  });
  return fc.array(step, { minLength: 1, maxLength: 40 });
}

function scenarioArb(first: AlgorithmName) {
  const any = fc.constantFrom(...ALGORITHMS);
  return fc
    .tuple(policyArb(fc.constant(first)), fc.array(policyArb(any), { maxLength: 2 }), fc.integer({ min: 0, max: 1e9 }))
    .chain(([head, rest, offset]) => {
      const policies = [head, ...rest];
      return stepsArb(policies).map((steps) => ({ policies, start: T0 + offset, steps }));
    });
}

function callsOf(policies: Policy[], s: Step): StoreCall[] {
  const calls: StoreCall[] = [];
  policies.forEach((p, i) => {
    if (!(s.mask & (1 << i))) return;
    calls.push(
      call(p.algorithm, {
        key: `{c${s.client}}:p${i}`,
        limit: p.limits[s.tier],
        burst: p.bursts[s.tier],
        windowMs: p.windowMs,
        cost: s.costs[i],
        blockForMs: p.blockForMs,
        shadow: p.shadow,
      }),
    );
  });
  return calls;
}

it.each(ALGORITHMS)('memory store and Lua agree number for number: %s first', async (algorithm) => {
  await fc.assert(
    fc.asyncProperty(scenarioArb(algorithm), async ({ policies, start, steps }) => {
      await client.flushall();
      const memory = new MemoryRateLimitStore();
      let now = start;
      const batches = steps.map((s) => {
        now += s.dtUs;
        return { now, calls: callsOf(policies, s) };
      });
      // Redis replies do not feed the next step, so the whole sequence goes out pipelined.
      const fromRedis = await Promise.all(batches.map((b) => redisStore.decide(b.calls, b.now)));
      for (let i = 0; i < batches.length; i++) {
        const fromMemory = await memory.decide(batches[i].calls, batches[i].now);
        if (JSON.stringify(fromMemory) !== JSON.stringify(fromRedis[i]) || fromMemory.some((x) => Object.is(x, -0))) {
          expect({ step: i, memory: fromMemory }).toEqual({ step: i, memory: fromRedis[i] });
        }
      }
    }),
    { numRuns: RUNS },
  );
});
