import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { Valkey } from 'iovalkey';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { startApp, type TestApp } from '../support/http-app.js';
import { DECISION_TIMEOUT, clientHeaderTracker, sequential } from '../support/http-suite.js';

/** An iovalkey client (the ioredis-compatible Valkey client) passed as `redis` is used as it is, and left open. */

@Controller()
class ValkeyController {
  @Get('limited')
  @RateLimit({ algorithm: 'gcra', limit: 2, window: '1h' })
  limited() {
    return { ok: true };
  }
}

let redis: RedisServer;
let client: Valkey;
let app: TestApp;
beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Valkey(redis.port, '127.0.0.1');
  app = await startApp('express', {
    imports: [RateLimitModule.forRoot({ redis: client, keyPrefix: 'valkey', tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT })],
    controllers: [ValkeyController],
  });
});
afterAll(async () => {
  await app?.close();
  client?.disconnect();
  await redis?.destroy();
});

describe('an iovalkey client', () => {
  it('decides through the script: 200, 200, 429 with headers, state kept under the prefix', async () => {
    const results = await sequential(`${app.url}/limited`, 3, { 'x-client': 'vk' });
    expect(results.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(results.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['1', '0', '0']);
    expect(Number(results[2].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await client.keys('valkey:{vk}:*')).toHaveLength(1);
  });

  it('is not closed by the module when the app closes', async () => {
    await app.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });
});
