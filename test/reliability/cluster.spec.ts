/**
 * The core HTTP behaviours against a real Redis Cluster of 3 masters started here
 * (`redis-server --cluster-enabled yes` + `redis-cli --cluster create`), configured as
 * `redis: { cluster: [...] }`, as an existing ioredis `Cluster` instance and as a node-redis
 * `createCluster()` client. The keys of one tracker share a hash slot; policies with different
 * trackers (different slots) are decided group by group with refunds, all-or-nothing; no
 * CROSSSLOT error, ever; the script cache can be flushed on every node between two requests.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext, type Type } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { RateLimit, RateLimitModule, type RateLimitAlgorithm, type RateLimitEvent, type RateLimitModuleOptions, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { trackerTag } from '../../lib/keys/tracker-tag.js';
import { countOf, request, startApp, type TestApp } from '../support/http-app.js';
import { ALGORITHMS, burstStatuses, clientHeaderTracker, header, keysWithTtl } from '../support/http-suite.js';
import { clusterClient, type PassedClient } from '../support/redis-clients.js';
import { RedisCluster } from '../support/redis-cluster.js';

const headerTracker = (name: string) => (context: ExecutionContext) => header(context, name) ?? 'anonymous';

function algorithmController(algorithm: RateLimitAlgorithm): Type {
  @Controller(`alg/${algorithm}`)
  class AlgorithmController {
    @Get()
    @RateLimit({ algorithm, limit: 5, window: '1d', blockFor: '1h' })
    five() {
      return { ok: true };
    }

    @Get('hundred')
    @RateLimit({ algorithm, limit: 100, window: '1d' })
    hundred() {
      return { ok: true };
    }
  }
  Object.defineProperty(AlgorithmController, 'name', { value: `Cluster_${algorithm.replace('-', '_')}` });
  return AlgorithmController;
}

// One tracker for both policies: one slot, one script call.
const SHORT: RateLimitPolicy = { name: 'short', algorithm: 'sliding-log', limit: 3, window: '1d' };
const LONG: RateLimitPolicy = { name: 'long', bucket: 'long', algorithm: 'gcra', limit: 5, window: '1d' };
// Different trackers: different slots, decided in order with refunds.
const USER: RateLimitPolicy = { name: 'user', bucket: 'user', algorithm: 'fixed-window', limit: 3, window: '1d', tracker: headerTracker('x-user') };
const TEAM: RateLimitPolicy = { name: 'team', bucket: 'team', algorithm: 'token-bucket', limit: 10, window: '1d', tracker: headerTracker('x-team') };

@Controller()
class MultiController {
  @Get('pair')
  @RateLimit([SHORT, LONG])
  pair() {
    return { ok: true };
  }

  @Get('long')
  @RateLimit(LONG)
  long() {
    return { ok: true };
  }

  @Get('both')
  @RateLimit([USER, TEAM])
  both() {
    return { ok: true };
  }

  @Get('user')
  @RateLimit(USER)
  user() {
    return { ok: true };
  }

  @Get('team')
  @RateLimit(TEAM)
  team() {
    return { ok: true };
  }
}

const CONTROLLERS = [...ALGORITHMS.map(algorithmController), MultiController];

let cluster: RedisCluster;
let admin: Cluster;
beforeAll(async () => {
  cluster = await RedisCluster.start(3);
  admin = cluster.client();
}, 60_000);
afterAll(async () => {
  // Not one CROSSSLOT error on any node, over everything this file did.
  const crossSlot = cluster ? await cluster.errorCount('CROSSSLOT') : 0;
  admin?.disconnect();
  await cluster?.destroy();
  expect(crossSlot).toBe(0);
});

/** Generous: on a shared 2-core machine under load a burst can take many times its usual second or two. */
const BURST_TIMEOUT_MS = 90_000;

const slotOf = (key: string) => admin.cluster('KEYSLOT', key) as Promise<number>;
const ok = (statuses: number[]) => countOf(statuses, 200);
async function sequential(url: string, count: number, headers: Record<string, string>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await request(url, { headers })).status);
  return out;
}

/** A client the app passes, closed by the test after the app. */
const passed = (library: 'ioredis' | 'node-redis') => () => clusterClient(library, cluster.startupNodes);

describe.each([
  ['{ cluster: [...] }', 'cfg', undefined],
  ['an ioredis Cluster instance', 'inst', passed('ioredis')],
  ['a node-redis createCluster() client', 'node', passed('node-redis')],
] as Array<[string, string, (() => Promise<PassedClient>) | undefined]>)('on a 3-master Redis Cluster, redis: %s', (_label, prefix, pass) => {
  const events: RateLimitEvent[] = [];
  let client: PassedClient | undefined;
  let app: TestApp;
  const url = (path: string) => `${app.url}/${path}`;

  beforeAll(async () => {
    client = await pass?.();
    const redis = (client?.client ?? { cluster: cluster.startupNodes }) as RateLimitModuleOptions['redis'];
    app = await startApp('express', {
      imports: [
        RateLimitModule.forRoot({
          redis,
          keyPrefix: prefix,
          tracker: clientHeaderTracker,
          // Correctness under load, not latency: a slow noisy machine must not fail anything open.
          timeout: 20_000,
          failMode: 'closed',
          onDecision: (e) => events.push(e),
        }),
      ],
      controllers: CONTROLLERS,
    });
  });
  afterAll(async () => {
    await app?.close();
    await client?.close();
    // Nothing failed: no CROSSSLOT, no NOSCRIPT, no MOVED surfaced as an error.
    expect(events.filter((e) => e.outcome === 'failed')).toEqual([]);
  });

  it.each(ALGORITHMS)('%s admits exactly the limit, then 429', async (algorithm) => {
    const statuses = await sequential(url(`alg/${algorithm}`), 7, { 'x-client': `alg-${algorithm}` });
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  // Every algorithm through the configured connection; one through each client the app passes.
  it.each(prefix === 'cfg' ? ALGORITHMS : (['sliding-log'] as RateLimitAlgorithm[]))('%s: 1,000 concurrent requests against limit 100 admit exactly 100', async (algorithm) => {
    const statuses = await burstStatuses(Array(1000).fill(url(`alg/${algorithm}/hundred`)), { 'x-client': `burst-${algorithm}` });
    expect(ok(statuses)).toBe(100);
    expect(countOf(statuses, 429)).toBe(900);
  }, BURST_TIMEOUT_MS);

  it('40 trackers at once, their decisions batched per slot over 3 masters: each admits exactly its limit', async () => {
    const trackers = Array.from({ length: 40 }, (_, i) => `many-${prefix}-${i}`);
    const results = await Promise.all(
      trackers.flatMap((tracker) =>
        Array.from({ length: 8 }, () => request(url('alg/gcra'), { headers: { 'x-client': tracker } }).then((r) => ({ tracker, status: r.status }))),
      ),
    );
    for (const tracker of trackers) {
      const mine = results.filter((r) => r.tracker === tracker).map((r) => r.status);
      expect([countOf(mine, 200), countOf(mine, 429)]).toEqual([5, 3]);
    }
  }, BURST_TIMEOUT_MS);

  it('keeps the keys of one tracker in one slot, and spreads trackers over the masters', async () => {
    const keys = [...(await keysWithTtlOnCluster(prefix))];
    const stateKeys = keys.filter(([key]) => key.includes('{alg-fixed-window}'));
    expect(stateKeys.map(([key]) => key).some((key) => key.endsWith(':b'))).toBe(true); // blockFor wrote a block key
    expect(new Set(await Promise.all(stateKeys.map(([key]) => slotOf(key)))).size).toBe(1);
    // Every key has a TTL.
    for (const [key, ttl] of keys) expect([key, ttl > 0]).toEqual([key, true]);
    // The trackers of this file landed on more than one master (the test exercises the cluster).
    const slots = await Promise.all(ALGORITHMS.map((a) => slotOf(`{burst-${a}}`)));
    const owners = new Set(await Promise.all(slots.map(masterOf)));
    expect(owners.size).toBeGreaterThan(1);
  });

  it('one tracker, two policies: all-or-nothing in one script call', async () => {
    const headers = { 'x-client': 'pair' };
    expect(await sequential(url('pair'), 6, headers)).toEqual([200, 200, 200, 429, 429, 429]);
    // The three denials charged nothing: 'long' (limit 5) has exactly 2 left.
    expect(await sequential(url('long'), 4, headers)).toEqual([200, 200, 429, 429]);
  });

  describe('different trackers, different slots: ordered groups with refunds', () => {
    // The groups go in the order of their tags; pick tracker values that put one group or the
    // other first, and check that they really are in different slots.
    const order = async (user: string, team: string) => {
      expect(await slotOf(`{${trackerTag(user)}}`)).not.toBe(await slotOf(`{${trackerTag(team)}}`));
      return trackerTag(team) < trackerTag(user) ? 'team first' : 'user first';
    };

    it('the later group denies: the earlier group is refunded', async () => {
      expect(await order(`u1-${prefix}`, `t1-${prefix}`)).toBe('team first');
      const both = { 'x-user': `u1-${prefix}`, 'x-team': `t1-${prefix}` };
      expect(await sequential(url('both'), 8, both)).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
      // The team was charged 3 times and refunded 5 times: 7 of its 10 left.
      expect(ok(await sequential(url('team'), 12, { 'x-team': `t1-${prefix}` }))).toBe(7);

      expect(await order(`a2-${prefix}`, `z2-${prefix}`)).toBe('user first');
      expect(ok(await sequential(url('team'), 11, { 'x-team': `z2-${prefix}` }))).toBe(10);
      expect(await sequential(url('both'), 3, { 'x-user': `a2-${prefix}`, 'x-team': `z2-${prefix}` })).toEqual([429, 429, 429]);
      // The user group went first and admitted; the team denied; the user was refunded: 3 left.
      expect(ok(await sequential(url('user'), 5, { 'x-user': `a2-${prefix}` }))).toBe(3);
    });

    it('the first group denies: the later group is only peeked, never charged', async () => {
      expect(await order(`a3-${prefix}`, `z3-${prefix}`)).toBe('user first');
      expect(ok(await sequential(url('user'), 4, { 'x-user': `a3-${prefix}` }))).toBe(3);
      expect(await sequential(url('both'), 4, { 'x-user': `a3-${prefix}`, 'x-team': `z3-${prefix}` })).toEqual([429, 429, 429, 429]);
      expect(ok(await sequential(url('team'), 12, { 'x-team': `z3-${prefix}` }))).toBe(10);
    });

    it('under concurrency: never over-admits, and what was denied is refunded exactly', async () => {
      expect(await order(`u4-${prefix}`, `t4-${prefix}`)).toBe('team first');
      const statuses = await burstStatuses(Array(200).fill(url('both')), { 'x-user': `u4-${prefix}`, 'x-team': `t4-${prefix}` });
      const admitted = ok(statuses);
      // Refunds may briefly hide budget from a concurrent request (under-admission), never add any.
      expect(admitted).toBeGreaterThanOrEqual(1);
      expect(admitted).toBeLessThanOrEqual(3);
      expect(countOf(statuses, 429)).toBe(200 - admitted);
      // Once the dust settles, exactly the admitted requests are charged, on both budgets.
      expect(ok(await sequential(url('team'), 12, { 'x-team': `t4-${prefix}` }))).toBe(10 - admitted);
      expect(ok(await sequential(url('user'), 5, { 'x-user': `u4-${prefix}` }))).toBe(3 - admitted);
    }, BURST_TIMEOUT_MS);
  });

  it('SCRIPT FLUSH on every master between two requests: the second is decided normally', async () => {
    const noScripts = await cluster.errorCount('NOSCRIPT');
    for (const path of ['alg/gcra/hundred', 'pair', 'both']) {
      const headers = { 'x-client': `flush-${path}`, 'x-user': `flush-u-${path}`, 'x-team': `flush-t-${path}` };
      const first = await request(url(path), { headers });
      expect(first.status).toBe(200);
      await Promise.all(admin.nodes('master').map((node) => node.script('FLUSH')));
      const second = await request(url(path), { headers });
      expect(second.status).toBe(200);
      expect(Number(second.headers['x-ratelimit-remaining'])).toBe(Number(first.headers['x-ratelimit-remaining']) - 1);
    }
    // The EVALSHA -> NOSCRIPT -> EVAL path really ran, through this client (on a Cluster too).
    expect(await cluster.errorCount('NOSCRIPT')).toBeGreaterThan(noScripts);
  });

  /** Every key of this app (its prefix) on every master, with its PTTL. */
  async function keysWithTtlOnCluster(keyPrefix: string): Promise<Map<string, number>> {
    const all = new Map<string, number>();
    for (const node of admin.nodes('master')) {
      for (const [key, ttl] of await keysWithTtl(node)) if (key.startsWith(`${keyPrefix}:`)) all.set(key, ttl);
    }
    return all;
  }

  /** The `host:port` of the master that owns `slot`, from CLUSTER SLOTS. */
  async function masterOf(slot: number): Promise<string> {
    const range = (await admin.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
    return range?.[2] ? `${range[2][0]}:${range[2][1]}` : 'unowned';
  }
});
