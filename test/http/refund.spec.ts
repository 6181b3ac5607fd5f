import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, ForbiddenException, Get, HttpException, Injectable, Param, UseGuards, UseInterceptors, type CanActivate } from '@nestjs/common';
import { RateLimit, RateLimitGuard, RateLimitInterceptor, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { ADAPTERS, startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, get, sleep } from '../support/http-suite.js';

/**
 * `refund`: the charge is given back after the response, by its final status (or a thrown
 * error, or a connection closed first). Limits of 3 per hour: nothing refills while a test runs.
 */

/** What the handler does: answer 200, throw an HttpException (401), throw a plain Error (500). */
function outcome(how: string) {
  if (how === 'http') throw new HttpException('wrong password', 401);
  if (how === 'error') throw new Error('not an HttpException');
  return { ok: true };
}

const ON_SUCCESS: RateLimitPolicy = { limit: 3, window: '1h', refund: 'on-success' };
const ON_FAILURE: RateLimitPolicy = { limit: 3, window: '1h', refund: 'on-failure' };

@Injectable()
class ForbidGuard implements CanActivate {
  canActivate(): boolean {
    throw new ForbiddenException();
  }
}

@Controller('refund')
class RefundController {
  @Get('on-success/:how')
  @RateLimit(ON_SUCCESS)
  onSuccess(@Param('how') how: string) {
    return outcome(how);
  }

  @Get('on-failure/:how')
  @RateLimit(ON_FAILURE)
  onFailure(@Param('how') how: string) {
    return outcome(how);
  }

  @Get('on-success-gcra/:how')
  @RateLimit({ ...ON_SUCCESS, algorithm: 'gcra' })
  onSuccessGcra(@Param('how') how: string) {
    return outcome(how);
  }

  /** The guard and the interceptor bound again by hand: the after-work still runs once. */
  @Get('twice/:how')
  @UseGuards(RateLimitGuard)
  @UseInterceptors(RateLimitInterceptor)
  @RateLimit(ON_FAILURE)
  twice(@Param('how') how: string) {
    return outcome(how);
  }

  /** A guard bound after the app-wide one refuses: the response is a 403. */
  @Get('forbidden-on-failure')
  @UseGuards(ForbidGuard)
  @RateLimit(ON_FAILURE)
  forbiddenOnFailure() {
    return { ok: true };
  }

  @Get('forbidden-on-success')
  @UseGuards(ForbidGuard)
  @RateLimit(ON_SUCCESS)
  forbiddenOnSuccess() {
    return { ok: true };
  }

  /** Answers after a while, so a client can go away first. */
  @Get('slow-on-failure')
  @RateLimit(ON_FAILURE)
  async slow() {
    await sleep(300);
    return { ok: true };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('refund on %s', (adapter) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(adapter, {
      imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `refund-${adapter}`, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [RefundController],
      providers: [ForbidGuard],
    });
  });
  afterAll(() => app.close());

  /** Statuses of requests sent one after the other, each by `client`. */
  async function statuses(client: string, paths: string[]): Promise<number[]> {
    const result: number[] = [];
    for (const path of paths) result.push((await get(`${app.url}/refund/${path}`, { 'x-client': client })).status);
    return result;
  }

  it("'on-success' counts only failures: HttpExceptions and plain errors alike", async () => {
    const ok = Array<string>(6).fill('on-success/ok');
    expect(await statuses('s1', ok)).toEqual(Array(6).fill(200));
    expect(await statuses('s1', ['on-success/http', 'on-success/error', 'on-success/http'])).toEqual([401, 500, 401]);
    // Three failures used the budget: even a request that would succeed is now denied.
    expect(await statuses('s1', ['on-success/ok', 'on-success/http'])).toEqual([429, 429]);
  });

  it("'on-success' on gcra gives the charge back into the bucket", async () => {
    expect(await statuses('s2', Array<string>(5).fill('on-success-gcra/ok'))).toEqual(Array(5).fill(200));
    expect(await statuses('s2', Array<string>(4).fill('on-success-gcra/error'))).toEqual([500, 500, 500, 429]);
  });

  it('headers show the budget before the handler: the charge is given back only after the response', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await get(`${app.url}/refund/on-success/ok`, { 'x-client': 's3' });
      expect(response.status).toBe(200);
      expect(response.headers['x-ratelimit-remaining']).toBe('2');
    }
  });

  it("'on-failure' counts only successes", async () => {
    expect(await statuses('f1', ['on-failure/http', 'on-failure/error', 'on-failure/http', 'on-failure/error', 'on-failure/http'])).toEqual([
      401, 500, 401, 500, 401,
    ]);
    expect(await statuses('f1', ['on-failure/ok', 'on-failure/ok', 'on-failure/ok', 'on-failure/ok'])).toEqual([200, 200, 200, 429]);
  });

  it('a guard bound twice with the interceptor gives each charge back once', async () => {
    // Two successes hold two units; a give-back run twice per failure would erase them.
    expect(await statuses('t1', ['twice/ok', 'twice/ok', 'twice/http', 'twice/error', 'twice/http', 'twice/error'])).toEqual([200, 200, 401, 500, 401, 500]);
    expect(await statuses('t1', ['twice/ok', 'twice/ok'])).toEqual([200, 429]);
  });

  it('a later guard that throws: its 403 is a failure, refunded under on-failure and counted under on-success', async () => {
    expect(await statuses('g1', Array<string>(5).fill('forbidden-on-failure'))).toEqual(Array(5).fill(403));
    expect(await statuses('g2', Array<string>(4).fill('forbidden-on-success'))).toEqual([403, 403, 403, 429]);
  });

  it('a client that goes away before the response is a failure: refunded under on-failure', async () => {
    for (let i = 0; i < 4; i++) {
      const aborted = new AbortController();
      const pending = fetch(`${app.url}/refund/slow-on-failure`, { headers: { 'x-client': 'a1' }, signal: aborted.signal }).catch(() => 'aborted');
      await sleep(100);
      aborted.abort();
      expect(await pending).toBe('aborted');
    }
    // The handlers finish after their connections closed; the give-backs follow the close.
    await sleep(400);
    expect(await statuses('a1', ['slow-on-failure', 'slow-on-failure', 'slow-on-failure', 'slow-on-failure'])).toEqual([200, 200, 200, 429]);
  });
});

describe('refund under failMode local', () => {
  @Controller('local')
  class LocalController {
    @Get(':how')
    @RateLimit({ ...ON_SUCCESS, limit: 2, failMode: 'local' })
    login(@Param('how') how: string) {
      return outcome(how);
    }
  }

  let down: RedisServer;
  let app: TestApp;
  beforeAll(async () => {
    down = await RedisServer.start();
    app = await startApp('express', {
      imports: [RateLimitModule.forRoot({ redis: down.url, keyPrefix: 'refund-local', tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
      controllers: [LocalController],
    });
    await down.stop();
    await sleep(300);
  });
  afterAll(async () => {
    await app.close();
    await down.destroy();
  });

  it('gives the charges of the local fallback back to it', async () => {
    const send = (how: string) => get(`${app.url}/local/${how}`, { 'x-client': 'l1' }).then((r) => r.status);
    for (let i = 0; i < 5; i++) expect(await send('ok')).toBe(200);
    expect([await send('http'), await send('http'), await send('ok')]).toEqual([401, 401, 429]);
  });
});
