/**
 * Concurrency slots across instances that go away: a crashed process's slots expire after the
 * slot TTL (its renewals stop with it); a process that shuts down releases its slots before it
 * closes its Redis connection, while its requests are still open.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { RateLimit, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { startApp, type TestApp } from '../support/http-app.js';
import { clientHeaderTracker, get, sleep } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';
import { startSampleProcess, type SampleProcess } from '../support/sample-process-runner.js';

/** The policy of test/support/sample-process.ts's `GET /slots/hold` (one budget through its bucket). */
const HELD_SLOTS: RateLimitPolicy = { name: 'held', algorithm: 'concurrency', limit: 2, window: '2s', bucket: 'held-slots' };
/** A slot TTL far longer than the test: a slot that frees up was released, not expired. */
const LONG_SLOTS: RateLimitPolicy = { name: 'long', algorithm: 'concurrency', limit: 2, window: '10m', bucket: 'long-slots' };

@Controller('slots')
class SlotsController {
  @Get('hold')
  @RateLimit(HELD_SLOTS)
  hold() {
    return new Promise<never>(() => undefined);
  }

  @Get('long')
  @RateLimit(LONG_SLOTS)
  long() {
    return new Promise<never>(() => undefined);
  }

  /** The same budgets, answered at once: probes that hold a slot only while they are answered. */
  @Get('probe/hold')
  @RateLimit(HELD_SLOTS)
  probeHold() {
    return { ok: true };
  }

  @Get('probe/long')
  @RateLimit(LONG_SLOTS)
  probeLong() {
    return { ok: true };
  }
}

/** Sends a request that will not be answered (its handler never returns); aborting it later is not an error. */
function hang(url: string, client: string): AbortController {
  const aborted = new AbortController();
  fetch(url, { headers: { 'x-client': client }, signal: aborted.signal }).catch(() => undefined);
  return aborted;
}

/** Probes the budget `name` until it answers `status`; returns the number of probes, or throws. */
async function until(name: 'hold' | 'long', client: string, status: number, tries = 60): Promise<number> {
  for (let i = 1; i <= tries; i++) {
    if ((await get(`${app.url}/slots/probe/${name}`, { 'x-client': client })).status === status) return i;
    await sleep(200);
  }
  throw new Error(`slots/probe/${name} never answered ${status}`);
}

/**
 * Waits until the client's slots in Redis number `count` (a probe would take a slot itself, and
 * could deny one of the requests it waits for).
 */
async function slotsHeld(client: string, count: number): Promise<void> {
  const redisClient = redis.client();
  try {
    for (let i = 0; i < 100; i++) {
      const [key] = await redisClient.keys(`rl:{${client}}:*`);
      if (key && (await redisClient.zcard(key)) === count) return;
      await sleep(100);
    }
    throw new Error(`${client} never held ${count} slots`);
  } finally {
    redisClient.disconnect();
  }
}

let redis: RedisServer;
let app: TestApp;
beforeAll(async () => {
  redis = await RedisServer.start();
  app = await startApp('express', {
    imports: [RateLimitModule.forRoot({ redis: redis.url, tracker: clientHeaderTracker, timeout: 5_000 })],
    controllers: [SlotsController],
  });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await redis?.destroy();
});

describe('concurrency slots', () => {
  let child: SampleProcess | undefined;
  afterAll(() => child?.stop());

  it('of a killed instance expire after the slot TTL, and the others admit again', async () => {
    child = await startSampleProcess({ REDIS_URL: redis.url });
    const held = [hang(`${child.url}/slots/hold`, 'crash'), hang(`${child.url}/slots/hold`, 'crash')];
    await slotsHeld('crash', 2);
    expect((await get(`${app.url}/slots/probe/hold`, { 'x-client': 'crash' })).status).toBe(429);
    await child.kill();
    held.forEach((h) => h.abort());
    // Denied while the slots live (at most the 2 s TTL after the last renewal), then admitted.
    const tries = await until('hold', 'crash', 200, 40);
    expect(tries).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('of an instance shutting down are released before it closes, while its requests are still open', async () => {
    const leaving = await startApp('express', {
      imports: [RateLimitModule.forRoot({ redis: redis.url, tracker: clientHeaderTracker, timeout: 5_000 })],
      controllers: [SlotsController],
    });
    const held = [hang(`${leaving.url}/slots/long`, 'bye'), hang(`${leaving.url}/slots/long`, 'bye')];
    await slotsHeld('bye', 2);
    expect((await get(`${app.url}/slots/probe/long`, { 'x-client': 'bye' })).status).toBe(429);
    let closed = false;
    const closing = leaving.close().then(() => (closed = true));
    // The other instance admits before the leaving one has closed: released, not expired.
    await until('long', 'bye', 200, 25);
    expect(closed).toBe(false);
    held.forEach((h) => h.abort());
    await closing;
  }, 60_000);
});
