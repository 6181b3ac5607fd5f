/**
 * Cold start, against real processes started here: a 3-master Cluster, a redis-server and a
 * Sentinel set. Each test meets an empty script cache (SCRIPT FLUSH on every node first, as on a
 * fresh Redis) with a freshly created app. Before the app serves, it holds a ready connection to
 * every node that decides, with the `decide` script loaded on each; its very first burst is
 * exact, and so is the first after a SCRIPT FLUSH or a restart of Redis.
 *
 * A cold Cluster node costs a decision at least 100 ms (ioredis retries a command that finds its
 * node connecting after `retryDelayOnFailover`, and refreshes the slots), which with the default
 * `timeout` fails it open. The tests look for that mechanism (node connections, the script cache,
 * slot refreshes) rather than for timeouts: on this shared machine even a warm burst's slowest
 * decision can take longer than 100 ms, so the apps get the suites' generous `timeout`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type Type } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import {
  RATE_LIMIT_STORE,
  RateLimit,
  RateLimitModule,
  type RateLimitAlgorithm,
  type RateLimitEvent,
  type RateLimitModuleOptions,
} from 'nestjs-redis-rate-limit';
import type { RedisRateLimitStore } from '../../lib/store/redis/redis-rate-limit-store.js';
import { DECIDE_SHA } from '../../lib/store/redis/decide-sha.js';
import { countOf, request, startApp, type TestApp } from '../support/http-app.js';
import { burstAgent, clientHeaderTracker, concurrentStatuses, DECISION_TIMEOUT, sleep } from '../support/http-suite.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { RedisSentinelSet } from '../support/redis-sentinel.js';
import { RedisServer } from '../support/redis-server.js';

const LIMIT = 15;
const BURST = 60;
const COLD_ALGORITHMS: RateLimitAlgorithm[] = ['fixed-window', 'gcra', 'sliding-log'];

function algorithmController(algorithm: RateLimitAlgorithm): Type {
  @Controller(`cold/${algorithm}`)
  class ColdController {
    @Get()
    @RateLimit({ algorithm, limit: LIMIT, window: '1d' })
    limited() {
      return { ok: true };
    }
  }
  Object.defineProperty(ColdController, 'name', { value: `Cold_${algorithm.replace('-', '_')}` });
  return ColdController;
}
const CONTROLLERS = COLD_ALGORITHMS.map(algorithmController);

interface ColdApp {
  app: TestApp;
  /** The connections the app decides on: every master of a Cluster, or its client. */
  deciding(): Redis[];
  /** Sends the burst to one algorithm's route for one tracker; returns [admitted, denied]. */
  burst(algorithm: RateLimitAlgorithm, tracker: string): Promise<[number, number]>;
  failed(): RateLimitEvent[];
}

async function coldApp(redis: RateLimitModuleOptions['redis'], keyPrefix: string): Promise<ColdApp> {
  const events: RateLimitEvent[] = [];
  const app = await startApp('express', {
    imports: [RateLimitModule.forRoot({ redis, keyPrefix, tracker: clientHeaderTracker, timeout: DECISION_TIMEOUT, onDecision: (e) => events.push(e) })],
    controllers: CONTROLLERS,
  });
  const client = app.app.get<RedisRateLimitStore>(RATE_LIMIT_STORE).redis.client as Redis | Cluster;
  const agent = burstAgent(BURST);
  return {
    app: { ...app, close: () => app.close().finally(() => agent.destroy()) },
    deciding: () => (client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]),
    async burst(algorithm, tracker) {
      const statuses = await concurrentStatuses(Array(BURST).fill(`${app.url}/cold/${algorithm}`), { 'x-client': tracker }, agent);
      return [countOf(statuses, 200), countOf(statuses, 429)];
    },
    failed: () => events.filter((e) => e.outcome === 'failed'),
  };
}

const EXACT: [number, number] = [LIMIT, BURST - LIMIT];

const flushScripts = (nodes: Redis[]) => Promise.all(nodes.map((node) => node.script('FLUSH')));
const scriptLoaded = (nodes: Redis[]) => Promise.all(nodes.map(async (node) => ((await node.script('EXISTS', DECIDE_SHA)) as number[])[0] === 1));
const allTrue = (nodes: unknown[]) => nodes.map(() => true);
const statuses = (nodes: Redis[]) => nodes.map((node) => node.status);

/** The first counter of an INFO line (`cmdstat_eval:calls`, `errorstat_NOSCRIPT:count`), summed over the nodes. */
async function stat(nodes: Redis[], counter: string): Promise<number> {
  const counts = await Promise.all(nodes.map(async (node) => Number(new RegExp(`^${counter}=(\\d+)`, 'm').exec(await node.info('all'))?.[1] ?? 0)));
  return counts.reduce((a, b) => a + b, 0);
}

/** Requests one after the other: each is decided alone, by a call with one key. */
async function sequentialStatuses(cold: ColdApp, algorithm: RateLimitAlgorithm, tracker: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await request(`${cold.app.url}/cold/${algorithm}`, { headers: { 'x-client': tracker } })).status);
  return out;
}

/** Polls (bounded) until every node has the script; no request is sent meanwhile. */
async function untilScriptLoaded(nodes: Redis[], timeoutMs = 10_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await scriptLoaded(nodes).catch(() => [false])).every(Boolean)) return true;
    await sleep(25);
  }
  return false;
}

let cluster: RedisCluster;
let server: RedisServer;
/** One connection per Cluster master, and one to the redis-server, for SCRIPT FLUSH/EXISTS and INFO. */
let clusterNodes: Redis[] = [];
let serverNode: Redis;
beforeAll(async () => {
  [cluster, server] = await Promise.all([RedisCluster.start(3), RedisServer.start()]);
  clusterNodes = cluster.nodes.map((node) => node.client());
  serverNode = server.client();
}, 60_000);
afterAll(async () => {
  [...clusterNodes, serverNode].forEach((node) => node?.disconnect());
  await Promise.all([cluster?.destroy(), server?.destroy()]);
});

describe.each([
  { name: 'a 3-master Cluster', redis: () => ({ cluster: cluster.startupNodes }), nodes: () => clusterNodes, isCluster: true },
  { name: 'a redis-server', redis: () => server.url, nodes: () => [serverNode], isCluster: false },
])('a fresh app on $name', ({ redis, nodes, isCluster }) => {
  it.each(COLD_ALGORITHMS)('%s: the first burst admits exactly the limit, and so does the first after SCRIPT FLUSH', async (algorithm) => {
    await flushScripts(nodes());
    const cold = await coldApp(redis(), `cold-${algorithm}`);
    try {
      // Before any request: a ready connection to every node, the script loaded on each.
      expect(statuses(cold.deciding())).toEqual(nodes().map(() => 'ready'));
      expect(await scriptLoaded(nodes())).toEqual(allTrue(nodes()));

      const slotRefreshes = await stat(nodes(), 'cmdstat_cluster\\|slots:calls');
      expect(await cold.burst(algorithm, 'first')).toEqual(EXACT);
      expect(cold.failed()).toEqual([]);
      // No call found its node still connecting: ioredis would have retried it after
      // `retryDelayOnFailover` (100 ms), and refreshed the slots.
      if (isCluster) expect(await stat(nodes(), 'cmdstat_cluster\\|slots:calls')).toBe(slotRefreshes);

      await flushScripts(nodes());
      expect(await cold.burst(algorithm, 'second')).toEqual(EXACT);
      expect(cold.failed()).toEqual([]);

      // The call that meets NOSCRIPT loads the script again, by EVAL; the calls after it EVALSHA.
      await flushScripts(nodes());
      const [evals, noscripts] = [await stat(nodes(), 'cmdstat_eval:calls'), await stat(nodes(), 'errorstat_NOSCRIPT:count')];
      expect(await sequentialStatuses(cold, algorithm, 'third', 5)).toEqual([200, 200, 200, 200, 200]);
      expect(await stat(nodes(), 'cmdstat_eval:calls')).toBe(evals + 1);
      expect(await stat(nodes(), 'errorstat_NOSCRIPT:count')).toBeLessThanOrEqual(noscripts + 1);
      expect(cold.failed()).toEqual([]);
    } finally {
      await cold.app.close();
    }
  });
});

/** A client the app passes, and what the test checks on it after the app. */
interface Passed {
  client: object;
  /** Open and answering, as the app left it. */
  answers(): Promise<boolean>;
  /** Listeners on the events the module follows, on the client and the connections that decide, beyond the library's own. */
  added(): number[];
  close(): void;
}

/** An ioredis client made without connecting (`lazyConnect`): the module connects it. ioredis itself listens to none of these events. */
function ioredisPassed(client: Redis | Cluster): Passed {
  return {
    client,
    answers: async () => client.status === 'ready' && (await client.ping()) === 'PONG',
    added: () => [
      ...['ready', 'refresh', '+node'].map((event) => client.listenerCount(event)),
      ...(client.isCluster ? (client as Cluster).nodes('all').map((node) => node.listenerCount('ready')) : []),
    ],
    close: () => client.disconnect(),
  };
}

type Listened = { listenerCount(event: string): number };
/** node-redis listens to some of these events itself: what it has on a connected client is the baseline. */
function addedSince(connections: () => Listened[]): () => number[] {
  const counts = () => connections().flatMap((c) => ['ready', 'reconnecting', 'end'].map((event) => c.listenerCount(event)));
  const baseline = counts();
  return () => counts().map((count, i) => count - baseline[i]);
}

/** A node-redis client, connected by the app as node-redis apps do. */
async function nodeRedisClientPassed(): Promise<Passed> {
  const client = createClient({ url: server.url }).on('error', () => undefined);
  await client.connect();
  return {
    client,
    answers: async () => client.isReady && (await client.ping()) === 'PONG',
    added: addedSince(() => [client]),
    close: () => client.destroy(),
  };
}

async function nodeRedisClusterPassed(): Promise<Passed> {
  const client = createCluster({ rootNodes: cluster.startupNodes.map((socket) => ({ socket })) }).on('error', () => undefined);
  await client.connect();
  return {
    client,
    answers: async () => client.isOpen && String(await client.sendCommand(undefined, true, ['PING'])) === 'PONG',
    added: addedSince(() => client.masters.flatMap((node) => (node.client ? [node.client as Listened] : []))),
    close: () => client.destroy(),
  };
}

describe.each([
  { name: 'an ioredis Cluster instance', prefix: 'io-cluster', pass: async () => ioredisPassed(new Cluster(cluster.startupNodes, { lazyConnect: true })), nodes: () => clusterNodes },
  { name: 'a lazyConnect ioredis Redis instance', prefix: 'io-lazy', pass: async () => ioredisPassed(new Redis(server.url, { lazyConnect: true })), nodes: () => [serverNode] },
  { name: 'a node-redis createCluster() client', prefix: 'nr-cluster', pass: nodeRedisClusterPassed, nodes: () => clusterNodes },
  { name: 'a node-redis createClient() client', prefix: 'nr-client', pass: nodeRedisClientPassed, nodes: () => [serverNode] },
])('$name passed in', ({ prefix, pass, nodes }) => {
  it('is connected with the script loaded on every node at start-up, and left open, without our listeners, at shutdown', async () => {
    await flushScripts(nodes());
    const passed = await pass();
    try {
      const cold = await coldApp(passed.client as RateLimitModuleOptions['redis'], prefix);
      try {
        expect(await scriptLoaded(nodes())).toEqual(allTrue(nodes()));
        expect(await cold.burst('gcra', 'passed-in')).toEqual(EXACT);
        expect(cold.failed()).toEqual([]);
      } finally {
        await cold.app.close();
      }
      expect(await passed.answers()).toBe(true);
      const added = passed.added();
      expect(added).toEqual(added.map(() => 0));
    } finally {
      passed.close();
    }
  });
});

describe('a restarted redis-server (its script cache empty)', () => {
  let own: RedisServer;
  let node: Redis;
  let cold: ColdApp;
  beforeAll(async () => {
    own = await RedisServer.start();
    node = own.client();
    cold = await coldApp(own.url, 'restart');
  });
  afterAll(async () => {
    await cold?.app.close();
    node?.disconnect();
    await own?.destroy();
  });

  it('gets the script again as soon as the app reconnects, before any request; the first burst is exact', async () => {
    await own.restart();
    expect(await untilScriptLoaded([node])).toBe(true);
    expect(await cold.burst('sliding-log', 'after-restart')).toEqual(EXACT);
    expect(cold.failed()).toEqual([]);
  });
});

describe('through Sentinel', () => {
  let set: RedisSentinelSet;
  let master: Redis;
  let cold: ColdApp;
  beforeAll(async () => {
    set = await RedisSentinelSet.start('coldmaster');
    master = set.master.client();
    await flushScripts([master]);
    cold = await coldApp({ sentinels: set.sentinels, name: set.name }, 'sentinel');
  }, 60_000);
  afterAll(async () => {
    await cold?.app.close();
    master?.disconnect();
    await set?.destroy();
  });

  it('a fresh app holds the script on the master before it serves; the first burst is exact', async () => {
    expect(statuses(cold.deciding())).toEqual(['ready']);
    expect(await scriptLoaded([master])).toEqual([true]);
    expect(await cold.burst('fixed-window', 'sentinel-first')).toEqual(EXACT);
    expect(cold.failed()).toEqual([]);
  });
});
