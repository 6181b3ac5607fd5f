import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, header, keysWithTtl, sequential } from '../support/http-suite.js';

/**
 * "Any tracker string (unicode, `{}`, 10 kB) maps to a bounded key" (≤ 128 bytes, under the
 * keyPrefix), each distinct value with its own budget, one value always with the same one.
 */

/** The tracker is the percent-decoded `x-who` header, so any string can be sent. */
const decodedTracker = (context: ExecutionContext) => decodeURIComponent(header(context, 'x-who') ?? 'nobody');

@Controller('who')
class WhoController {
  @Get()
  @RateLimit([
    { name: 'a', algorithm: 'sliding-log', limit: 2, window: '1h' },
    { name: 'b', algorithm: 'gcra', limit: 3, window: '1h', blockFor: '1m' },
  ])
  who() {
    return { ok: true };
  }
}

const TRACKERS: Array<[string, string]> = [
  ['short and plain', 'alice'],
  ['unicode', 'ユーザー-😀-ü'],
  ['cluster hash-tag braces', '{x}}{y{'],
  ['spaces and colons', 'a b:c:{d}'],
  ['10 kB', 'z'.repeat(10_000)],
  ['10 kB, differing only at the end', `${'z'.repeat(9_999)}y`],
  ['a value that looks like a hashed tag', '~abcdefghijklmnop'],
];

let redis: RedisServer;
let raw: Redis;
beforeAll(async () => {
  redis = await RedisServer.start();
  raw = redis.client();
});
afterAll(async () => {
  raw.disconnect();
  await redis.destroy();
});

describe.each(ADAPTERS)('tracker values and keys on %s', (adapter) => {
  let app: TestApp;
  const keyPrefix = `who-${adapter}`;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix, tracker: decodedTracker, timeout: DECISION_TIMEOUT })],
      controllers: [WhoController],
    });
  });
  afterAll(() => app.close());

  it.each(TRACKERS)('a %s tracker has its own budget', async (_kind, tracker) => {
    const results = await sequential(`${app.url}/who`, 3, { 'x-who': encodeURIComponent(tracker) });
    expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
  });

  it('every key is at most 128 bytes, under the keyPrefix, with a TTL', async () => {
    const keys = [...(await keysWithTtl(raw))].filter(([key]) => key.startsWith(`${keyPrefix}:`));
    // per tracker: one key per policy
    expect(keys.length).toBeGreaterThanOrEqual(TRACKERS.length * 2);
    for (const [key, ttl] of keys) {
      expect({ key, bytes: Buffer.byteLength(key) <= 128, ttl: ttl > 0 }).toEqual({ key, bytes: true, ttl: true });
    }
  });
});
