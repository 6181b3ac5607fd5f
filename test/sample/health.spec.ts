import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { RedisServer } from '../support/redis-server.js';
import { request } from '../support/http-app.js';
import { startSampleInstances, type SampleInstances } from './sample-instances.js';

let redis: RedisServer;
let instances: SampleInstances;

beforeAll(async () => {
  redis = await RedisServer.start();
  instances = await startSampleInstances(1, redis.url);
});
afterAll(async () => {
  await instances.close();
  await redis.destroy();
});

it('GET /health is 200 while Redis answers', async () => {
  const response = await request(`${instances.urls[0]}/health`);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up', mode: 'standalone', breaker: 'closed' } } });
});

it('GET /health is 503 once Redis is stopped, and rate-limited routes fail open meanwhile', async () => {
  await redis.stop();
  const response = await request(`${instances.urls[0]}/health`);
  expect(response.status).toBe(503);
  expect(response.body).toMatchObject({ status: 'error', error: { redis: { status: 'down', mode: 'standalone' } } });
  await expect(request(`${instances.urls[0]}/public`)).resolves.toMatchObject({ status: 200 });
});

it('GET /health is 200 again once the client has reconnected to a restarted Redis', async () => {
  await redis.restart();
  const statuses: number[] = [];
  while (statuses.at(-1) !== 200 && statuses.length < 150) {
    if (statuses.length) await new Promise((resolve) => setTimeout(resolve, 100));
    statuses.push((await request(`${instances.urls[0]}/health`)).status);
  }
  expect(statuses.at(-1)).toBe(200);
});
