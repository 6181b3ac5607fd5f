/**
 * Key hygiene under hostile input, against a real redis-server: trackers of any content and
 * length (unicode, `{}`, newlines, NUL, 10 kB) map to bounded (<= 128 bytes), collision-safe
 * keys whose hash tag is exactly the tracker's tag; every key written has a TTL (the keyspace is
 * scanned after the run); a flood of unique clients costs a bounded, measured number of bytes
 * per key.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { RateLimit, RateLimiterService, RateLimitModule, type RateLimitAlgorithm, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RateLimitEngine } from '../../lib/engine/rate-limit-engine.js';
import { hashTracker, trackerTag } from '../../lib/keys/tracker-tag.js';
import { RateLimitPolicyRegistry } from '../../lib/policy/rate-limit-policy.registry.js';
import { burst, request, startApp, type TestApp } from '../support/http-app.js';
import { ALGORITHMS, clientHeaderTracker, keysWithTtl } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';

const MAX_KEY_BYTES = 128;
const WINDOW_MS = 60 * 60_000;
const BLOCK_MS = 60_000;

const HOSTILE: string[] = [
  'a',
  '127.0.0.1',
  '🦄 ünïcødé ✓ 漢字',
  '{}',
  '{',
  '}',
  '{a}b',
  'a}{b',
  '}{',
  'line\nbreak',
  '\r\n\t',
  '\0nul\0',
  ' ',
  '\u202e\u200b',
  'rl:{x}:y',
  '../../etc/passwd',
  '%00%0a',
  'A'.repeat(45),
  'A'.repeat(46),
  'x'.repeat(10_000),
  'é'.repeat(10_000),
  'a'.repeat(9_999) + 'b',
  'a'.repeat(9_999) + 'c',
  hashTracker('a'),
  `~${hashTracker('a')}`,
  `~${hashTracker('{}')}`,
  '~',
];

/** The Cluster hash tag of a key: what is between the first `{` and the next `}`. */
function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

const policyFor = (algorithm: RateLimitAlgorithm, over: Partial<RateLimitPolicy> = {}): RateLimitPolicy => ({
  name: `hygiene-${algorithm}`,
  algorithm,
  limit: 3,
  window: WINDOW_MS,
  blockFor: BLOCK_MS,
  ...over,
});

@Controller()
class HygieneController {
  @Get('all')
  @RateLimit(ALGORITHMS.map((algorithm, i) => ({ name: `p${i}`, algorithm, limit: 2 + i, window: '1h', blockFor: '1m' })))
  all() {
    return { ok: true };
  }

  @Get('log')
  @RateLimit({ algorithm: 'sliding-log', limit: 3, window: '1h', cost: 2 })
  log() {
    return { ok: true };
  }
}

describe('keys under hostile trackers', () => {
  let redis: RedisServer;
  let admin: Redis;
  let app: TestApp;
  let service: RateLimiterService;

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    app = await startApp('express', {
      imports: [RateLimitModule.forRoot({ redis: redis.url, tracker: clientHeaderTracker, failMode: 'closed', timeout: 5_000 })],
      controllers: [HygieneController],
    });
    service = app.app.get(RateLimiterService);
  });
  afterAll(async () => {
    await app?.close();
    admin?.disconnect();
    await redis?.destroy();
  });

  it('tags are bounded, brace-free and distinct for distinct values (property)', () => {
    const tracker = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom('{', '}', 'a', '~', ':', '\n', '.'), maxLength: 60 }),
      fc.string({ maxLength: 50 }).map((s) => `~${hashTracker(s)}`),
    );
    const bounded = (tag: string) => tag.length > 0 && Buffer.byteLength(tag) <= 45 && !/[{}]/.test(tag);
    fc.assert(
      fc.property(tracker, tracker, (a, b) => bounded(trackerTag(a)) && bounded(trackerTag(b)) && (a === b) === (trackerTag(a) === trackerTag(b))),
      { numRuns: 1_000 },
    );
  });

  it.each(ALGORITHMS)('%s: every hostile tracker gets its own bounded key in its own slot, through the real engine', async (algorithm) => {
    const policy = policyFor(algorithm);
    const engine = app.app.get(RateLimitEngine);
    const compiled = app.app.get(RateLimitPolicyRegistry).forService(policy);
    for (const tracker of HOSTILE) {
      // A fresh budget each: no tracker shares another's key.
      expect(await service.consume(tracker, policy)).toMatchObject({ allowed: true, remaining: 2 });
    }
    const stateKeys = new Set<string>();
    for (const tracker of HOSTILE) {
      const [state, block] = engine.keysOf(tracker, compiled);
      stateKeys.add(state);
      for (const key of [state, block]) {
        expect(Buffer.byteLength(key)).toBeLessThanOrEqual(MAX_KEY_BYTES);
        expect(key).not.toMatch(/[\s\0]/);
        expect(hashTagOf(key)).toBe(trackerTag(tracker));
      }
      expect(await admin.exists(state)).toBe(1);
    }
    expect(stateKeys.size).toBe(HOSTILE.length);

    // Exhaust the 10 kB tracker: the denial writes a block key, in the state key's slot.
    const huge = HOSTILE.find((t) => t.length === 10_000)!;
    for (let i = 0; i < 2; i++) await service.consume(huge, policy);
    expect(await service.consume(huge, policy)).toMatchObject({ allowed: false });
    const [state, block] = engine.keysOf(huge, compiled);
    expect(await admin.exists(block)).toBe(1);
    expect(hashTagOf(block)).toBe(hashTagOf(state));
  });

  it('HTTP traffic over every algorithm, with denials and blocks, then resets', async () => {
    for (const client of ['h1', 'h2', '{h3}']) {
      const statuses = await burst(`${app.url}/all`, 10, { headers: { 'x-client': client } });
      expect(statuses.filter((s) => s === 200)).toHaveLength(2);
      expect((await request(`${app.url}/log`, { headers: { 'x-client': client } })).status).toBe(200);
    }
    await service.reset('a', policyFor('gcra'));
  });

  it('after the run, every key in the keyspace has a TTL within its horizon + blockFor + 1 s', async () => {
    const keys = await keysWithTtl(admin);
    expect(keys.size).toBeGreaterThan(HOSTILE.length * ALGORITHMS.length);
    const horizon = 2 * WINDOW_MS + BLOCK_MS + 1_000; // the longest: sliding-window
    const bad = [...keys].filter(([, ttl]) => !(ttl > 0 && ttl <= horizon));
    expect(bad).toEqual([]);
    for (const key of keys.keys()) expect(Buffer.byteLength(key)).toBeLessThanOrEqual(MAX_KEY_BYTES);
  });
});

describe('a flood of unique clients', () => {
  const CLIENTS = 5_000;
  let redis: RedisServer;
  let admin: Redis;
  let app: TestApp;
  let service: RateLimiterService;
  const table: string[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    app = await startApp('express', {
      imports: [RateLimitModule.forRoot({ redis: redis.url, failMode: 'closed', timeout: 10_000 })],
      controllers: [],
    });
    service = app.app.get(RateLimiterService);
  });
  afterAll(async () => {
    console.log(
      [
        `Memory per key, ${CLIENTS} unique clients, one request each (Redis ${(await admin.info('server')).match(/redis_version:(\S+)/)?.[1]}):`,
        '  algorithm       tracker  key bytes  MEMORY USAGE/key  used_memory delta/key',
        ...table,
      ].join('\n'),
    );
    await app?.close();
    admin?.disconnect();
    await redis?.destroy();
  });

  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);

  it.each([
    ...ALGORITHMS.map((algorithm) => [algorithm, 'ipv4'] as const),
    ['gcra', 'hashed'] as const,
  ])('%s (%s trackers): bounded bytes per key, each with a TTL', async (algorithm, kind) => {
    await admin.flushall();
    // An hour's window: a bucket's key lives until it would be full again (here 36 s per unit).
    const policy: RateLimitPolicy = { name: 'flood', algorithm, limit: 100, window: '1h' };
    const trackerOf = (i: number) => (kind === 'ipv4' ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `user-${i}@example.com`);
    await service.consume(trackerOf(CLIENTS), policy); // warm up: script loaded, first allocations done
    await admin.flushall();
    const before = await usedMemory();
    for (let from = 0; from < CLIENTS; from += 250) {
      await Promise.all(Array.from({ length: Math.min(250, CLIENTS - from) }, (_, j) => service.consume(trackerOf(from + j), policy)));
    }
    const after = await usedMemory();
    expect(await admin.dbsize()).toBe(CLIENTS);

    const sample: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'COUNT', 100);
      cursor = next;
      sample.push(...batch);
    } while (cursor !== '0' && sample.length < 200);
    let usage = 0;
    for (const key of sample) {
      usage += (await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number;
      expect(await admin.pttl(key)).toBeGreaterThan(0);
    }
    const perKey = usage / sample.length;
    const deltaPerKey = (after - before) / CLIENTS;
    const keyBytes = sample.reduce((n, k) => n + Buffer.byteLength(k), 0) / sample.length;
    table.push(
      `  ${algorithm.padEnd(15)} ${kind.padEnd(8)} ${keyBytes.toFixed(0).padStart(9)}  ${perKey.toFixed(0).padStart(16)}  ${deltaPerKey.toFixed(0).padStart(21)}`,
    );
    // Bounded: a few hundred bytes per client at most, whatever the algorithm.
    expect(perKey).toBeLessThan(256);
    expect(deltaPerKey).toBeLessThan(512);
  });

  it('sliding-log is the exception: its key grows with the admitted requests (one member each), up to the limit', async () => {
    await admin.flushall();
    const limit = 100;
    const policy: RateLimitPolicy = { name: 'full-log', algorithm: 'sliding-log', limit, window: '1h' };
    for (let i = 0; i < limit + 10; i++) await service.consume('10.0.0.1', policy);
    const [key] = await admin.keys('*');
    const usage = (await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number;
    table.push(`  ${'sliding-log'.padEnd(15)} ${'ipv4'.padEnd(8)} ${String(Buffer.byteLength(key)).padStart(9)}  ${String(usage).padStart(16)}  (one key holding ${limit} admitted requests)`);
    // One member per admitted request, and the log's summary.
    expect(await admin.zcard(key)).toBe(limit + 1);
    expect(usage).toBeLessThan(limit * 64);
  });
});
