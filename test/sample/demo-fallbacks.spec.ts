import { afterEach, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, type DemoProcess } from '../support/demo-process.js';
import { RedisServer } from '../support/redis-server.js';

let demo: DemoProcess | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  await demo?.interrupt();
  await redis?.destroy();
  demo = redis = undefined;
});

const json = async (url: string, init?: RequestInit) => {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

it('without nginx, the page spreads its requests over the three instances itself, and says so', async () => {
  demo = await startDemo({ DEMO_NGINX: 'off' });
  expect(demo.output()).toMatch(/Balancer:\s+none: the page spreads its requests over/);
  const { body } = await json(`${demo.url}/dashboard/instances`);
  expect(body).toMatchObject({ store: 'redis', balancer: 'page', redisControl: true });
  const instances = body.instances as string[];
  expect(instances).toHaveLength(3);
  expect(instances[0]).toBe(demo.url);
  for (const url of instances) await expect(json(`${url}/health`)).resolves.toMatchObject({ status: 200 });
}, 120_000);

it('without redis-server, one instance runs on the memory store, and the console and the page say so', async () => {
  const emptyPath = mkdtempSync(join(tmpdir(), 'rl-no-redis-'));
  try {
    demo = await startDemo({ PATH: emptyPath });
  } finally {
    rmSync(emptyPath, { recursive: true, force: true });
  }
  expect(demo.output()).toMatch(/Store:\s+memory, one instance only \(redis-server was not found/);
  await expect(json(`${demo.url}/dashboard/instances`)).resolves.toMatchObject({
    body: { store: 'memory', balancer: 'page', instances: [demo.url], redisControl: false },
  });
  await expect(json(`${demo.url}/health`)).resolves.toMatchObject({ status: 200, body: { details: { redis: { mode: 'memory' } } } });
}, 120_000);

it('with REDIS_URL, runs on that Redis and never pauses it', async () => {
  redis = await RedisServer.start();
  demo = await startDemo({ REDIS_URL: redis.url });
  expect(demo.output()).toContain(`Store:      Redis at ${redis.url} (REDIS_URL; the dashboard cannot pause it)`);
  await expect(json(`${demo.url}/dashboard/instances`)).resolves.toMatchObject({ body: { store: 'redis', redisControl: false } });
  await expect(json(`${demo.url}/demo/redis/pause`, { method: 'POST' })).resolves.toMatchObject({ status: 409 });
  const client = redis.client();
  await expect(client.ping()).resolves.toBe('PONG');
  client.disconnect();
}, 120_000);
