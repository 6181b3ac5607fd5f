import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, ForbiddenException, Get, Injectable, Res, UseGuards, type CanActivate } from '@nestjs/common';
import { Readable } from 'node:stream';
import { RateLimit, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, countOf, startApp, type TestApp } from '../support/http-app.js';
import { burstAgent, clientHeaderTracker, concurrentStatuses, get, sleep } from '../support/http-suite.js';

/**
 * `algorithm: 'concurrency'`: at most `limit` requests of a client in flight at once, across
 * every instance; a slot is released when the response is sent, the connection closes, the
 * handler throws or a later guard refuses, and a streamed response renews it.
 */

const FIVE: RateLimitPolicy = { name: 'in-flight', algorithm: 'concurrency', limit: 5, window: '1m' };
const ONE: RateLimitPolicy = { algorithm: 'concurrency', limit: 1, window: '1m' };

/** Requests inside the `busy` handler right now, and the most seen at once (all instances: one process). */
const busy = { now: 0, most: 0 };
/** Holds the `held` handler until the test lets it go. */
function newGate() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
let gate = newGate();

/**
 * The status of a request sent after the previous one's response: a slot is released once
 * that response has finished, which the client may see first, so a 429 is retried a few times,
 * well inside the 1 s a cached denial would last. A slot never released still answers 429.
 */
async function afterRelease(url: string, client: string): Promise<number> {
  let status = 429;
  for (let i = 0; i < 20 && status === 429; i++) {
    if (i > 0) await sleep(10);
    status = (await get(url, { 'x-client': client })).status;
  }
  return status;
}

@Injectable()
class ForbidGuard implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException();
  }
}

@Controller('slots')
class SlotsController {
  @Get('busy')
  @RateLimit(FIVE)
  async busy() {
    busy.now++;
    busy.most = Math.max(busy.most, busy.now);
    await sleep(2);
    busy.now--;
    return { ok: true };
  }

  @Get('held')
  @RateLimit(ONE)
  async held() {
    await gate.promise;
    return { ok: true };
  }

  @Get('throws')
  @RateLimit(ONE)
  throws() {
    throw new Error('handler failed');
  }

  @Get('forbidden')
  @UseGuards(ForbidGuard)
  @RateLimit(ONE)
  forbidden() {
    return { ok: true };
  }

  /** A response streamed for longer than the slot's 1 s TTL: the slot is renewed meanwhile. */
  @Get('stream')
  @RateLimit({ algorithm: 'concurrency', limit: 1, window: '1s' })
  stream(@Res() res: { raw?: NodeJS.WritableStream } & NodeJS.WritableStream) {
    const out = res.raw ?? res;
    let sent = 0;
    Readable.from(
      (async function* () {
        while (sent++ < 25) {
          yield 'chunk\n';
          await sleep(100);
        }
      })(),
    ).pipe(out);
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('concurrency on %s', (adapter) => {
  const INSTANCES = 4;
  let apps: TestApp[] = [];
  beforeAll(async () => {
    apps = await Promise.all(
      Array.from({ length: INSTANCES }, () =>
        startApp(adapter, {
          imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `slots-${adapter}`, tracker: clientHeaderTracker, timeout: 20_000, failMode: 'closed' })],
          controllers: [SlotsController],
          providers: [ForbidGuard],
        }),
      ),
    );
  });
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  it(`1,000 concurrent requests over ${INSTANCES} instances: never more than 5 in flight, every one answered`, async () => {
    busy.most = 0;
    const agent = burstAgent(250);
    const urls = Array.from({ length: 1000 }, (_, i) => `${apps[i % INSTANCES].url}/slots/busy`);
    const statuses = await concurrentStatuses(urls, { 'x-client': 'c1' }, agent);
    agent.destroy();
    expect(countOf(statuses, 200) + countOf(statuses, 429)).toBe(1000);
    expect(countOf(statuses, 200)).toBeGreaterThanOrEqual(5);
    expect(busy.most).toBeGreaterThanOrEqual(1);
    expect(busy.most).toBeLessThanOrEqual(5);
    // Every slot was released: the next request sees all 5 free (4 after its own).
    const next = await get(`${apps[0].url}/slots/busy`, { 'x-client': 'c1' });
    expect(next.status).toBe(200);
    expect(next.headers['x-ratelimit-remaining']).toBe('4');
  });

  it('a denial says Retry-After: 1, and is never cached: a released slot admits at once', async () => {
    gate = newGate();
    const holding = get(`${apps[0].url}/slots/held`, { 'x-client': 'c2' });
    await sleep(200);
    const denied = await get(`${apps[1].url}/slots/held`, { 'x-client': 'c2' });
    expect(denied.status).toBe(429);
    expect(denied.headers['retry-after']).toBe('1');
    expect(denied.headers['x-ratelimit-remaining']).toBe('0');
    expect((await get(`${apps[1].url}/slots/held`, { 'x-client': 'c2' })).status).toBe(429);
    gate.resolve();
    expect((await holding).status).toBe(200);
    expect(await afterRelease(`${apps[1].url}/slots/held`, 'c2')).toBe(200);
  });

  it('a client that goes away releases its slot while the handler still runs', async () => {
    gate = newGate();
    const aborted = new AbortController();
    const pending = fetch(`${apps[0].url}/slots/held`, { headers: { 'x-client': 'c3' }, signal: aborted.signal }).catch(() => 'aborted');
    await sleep(200);
    expect((await get(`${apps[0].url}/slots/held`, { 'x-client': 'c3' })).status).toBe(429);
    aborted.abort();
    expect(await pending).toBe('aborted');
    await sleep(200);
    const second = get(`${apps[1].url}/slots/held`, { 'x-client': 'c3' });
    await sleep(200);
    gate.resolve();
    expect((await second).status).toBe(200);
  });

  it('a handler that throws and a later guard that refuses release their slots', async () => {
    for (let i = 0; i < 4; i++) expect(await afterRelease(`${apps[i].url}/slots/throws`, 'c4')).toBe(500);
    for (let i = 0; i < 4; i++) expect(await afterRelease(`${apps[i].url}/slots/forbidden`, 'c4')).toBe(403);
  });

  it('a streamed response holds its slot past the slot TTL (renewed), and frees it when it ends', async () => {
    const streaming = fetch(`${apps[0].url}/slots/stream`, { headers: { 'x-client': 'c5' } }).then((r) => r.text());
    await sleep(1500);
    expect((await get(`${apps[1].url}/slots/stream`, { 'x-client': 'c5' })).status).toBe(429);
    expect((await streaming).split('\n').filter(Boolean)).toHaveLength(25);
    expect(await afterRelease(`${apps[1].url}/slots/stream`, 'c5')).toBe(200);
  });

  it("writes the IETF item with q and no w", async () => {
    const app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `slots-ietf-${adapter}`, headers: 'ietf', tracker: clientHeaderTracker })],
      controllers: [SlotsController],
      providers: [ForbidGuard],
    });
    try {
      const response = await get(`${app.url}/slots/busy`, { 'x-client': 'c6' });
      expect(response.headers['ratelimit-policy']).toBe('"in-flight";q=5');
      expect(response.headers['ratelimit']).toBe('"in-flight";r=4;t=0');
    } finally {
      await app.close();
    }
  });
});
