/**
 * Redis outages against real redis-server processes: frozen (SIGSTOP), killed and restarted on
 * the same port, script cache flushed. Every decision fails within its `timeout` (plus what a
 * loaded machine adds, measured), with the fail mode of its policies (module-wide or per policy, the strictest of a
 * route winning); the circuit breaker stops calling Redis and recovers on its own; failures are
 * logged once per burst and reported per request through `onDecision`. The outages run against
 * the module's own ioredis client (a URL) and against a node-redis client the app passed.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RateLimit, RateLimitModule, type RateLimitEvent, type RateLimitModuleOptions, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { RateLimitEngine } from '../../lib/engine/rate-limit-engine.js';
import { CaptureLogger } from '../support/capture-logger.js';
import { request, startApp, type HttpResult, type TestApp } from '../support/http-app.js';
import { standaloneClient, type PassedClient } from '../support/redis-clients.js';
import { freePort, RedisServer } from '../support/redis-server.js';
import { createClient } from 'redis';

const TIMEOUT_MS = 100;
/**
 * The longest a failed decision may take: its timeout, plus at most one extension of it when its
 * timer fired late (the event loop stalled), each of the two timers firing up to `lagMs` late,
 * plus a little for the deferral past the poll phase and the sampling of the lag. On a loaded
 * machine every timer of a starved process fires late, so the lag is measured, not assumed.
 */
const decisionBoundMs = (lagMs: number) => 2 * (TIMEOUT_MS + lagMs) + 50;
/**
 * An HTTP answer adds the work of client and server in this one process, which a loaded machine
 * stretches (over 1.5 s was seen): this bound only tells a slow answer from one that waited for
 * Redis, which is not back while the answers are awaited.
 */
const HANG_MS = 5_000;

const tracker = (context: ExecutionContext) =>
  String(context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client'] ?? 'anonymous');

const limited = (over: Partial<RateLimitPolicy> = {}): RateLimitPolicy => ({ algorithm: 'fixed-window', limit: 5, window: '1h', ...over });

@Controller()
class OutageController {
  /** No failMode of its own: the module's. */
  @Get('inherit')
  @RateLimit(limited())
  inherit() {
    return { ok: true };
  }

  @Get('lenient')
  @RateLimit(limited({ failMode: 'open' }))
  lenient() {
    return { ok: true };
  }

  @Get('closed')
  @RateLimit(limited({ failMode: 'closed' }))
  closed() {
    return { ok: true };
  }

  @Get('local')
  @RateLimit(limited({ failMode: 'local' }))
  local() {
    return { ok: true };
  }

  /** An open and a closed policy on one route: the strictest (closed) wins. */
  @Get('mixed')
  @RateLimit([limited({ name: 'lenient', failMode: 'open' }), limited({ name: 'strict', failMode: 'closed' })])
  mixed() {
    return { ok: true };
  }
}

interface Harness {
  app: TestApp;
  events: RateLimitEvent[];
  engine: RateLimitEngine;
}

async function harness(redis: RateLimitModuleOptions['redis'], options: Partial<RateLimitModuleOptions>, logger?: CaptureLogger): Promise<Harness> {
  const events: RateLimitEvent[] = [];
  const app = await startApp('express', {
    imports: [RateLimitModule.forRoot({ redis, tracker, timeout: TIMEOUT_MS, onDecision: (e) => events.push(e), ...options })],
    controllers: [OutageController],
  });
  if (logger) app.app.useLogger(logger);
  return { app, events, engine: app.app.get(RateLimitEngine) };
}

/** Samples how late this process runs its timers; `stop()` returns the worst lateness in ms. */
function lagMonitor(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

interface Timed extends HttpResult {
  ms: number;
}

async function timed(url: string, client: string): Promise<Timed> {
  const started = performance.now();
  const result = await request(url, { headers: { 'x-client': client } });
  return { ...result, ms: performance.now() - started };
}

/** A request decided by Redis carries the budget headers; a failed-open one does not. */
const decided = (r: HttpResult) => r.headers['x-ratelimit-limit'] !== undefined;

/** Polls `url` with fresh clients until Redis decides again; returns the ms it took. */
async function untilDecided(url: string, timeoutMs = 15_000): Promise<number> {
  const started = performance.now();
  for (let i = 0; performance.now() - started < timeoutMs; i++) {
    if (decided(await request(url, { headers: { 'x-client': `probe-${i}-${Math.random()}` } }))) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} was not decided by Redis again within ${timeoutMs} ms`);
}

async function statuses(url: string, client: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await request(url, { headers: { 'x-client': client } })).status);
  return out;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const UNAVAILABLE_BODY = { statusCode: 503, message: 'Rate limiter unavailable', retryAfter: expect.any(Number) };

/** What the app passes as `redis`: a URL (the module connects its own ioredis client), or a node-redis client of its own. */
const CONNECTIONS = [['a URL', 'url'], ['a node-redis client', 'node-redis']] as const;
type Connection = (typeof CONNECTIONS)[number][1];

/** The `redis` option for `server`, and what closes it after the app (a passed client is the app's to close). */
async function connectionTo(connection: Connection, server: RedisServer): Promise<{ redis: RateLimitModuleOptions['redis']; close(): Promise<void> }> {
  if (connection === 'url') return { redis: server.url, close: async () => undefined };
  const passed: PassedClient = await standaloneClient('node-redis', server.port);
  return { redis: passed.client as RateLimitModuleOptions['redis'], close: () => passed.close() };
}

describe.each(CONNECTIONS)('Redis frozen (SIGSTOP) mid-traffic, redis: %s', (_label, connection) => {
  let redis: RedisServer;
  let open: Harness;
  let closed: Harness;
  const clients: Array<{ close(): Promise<void> }> = [];
  const logger = new CaptureLogger();

  beforeAll(async () => {
    redis = await RedisServer.start();
    const [forOpen, forClosed] = [await connectionTo(connection, redis), await connectionTo(connection, redis)];
    clients.push(forOpen, forClosed);
    open = await harness(forOpen.redis, { keyPrefix: 'open' }, logger);
    closed = await harness(forClosed.redis, { keyPrefix: 'closed', failMode: 'closed' }, logger);
  });
  afterAll(async () => {
    redis.resume();
    await open?.app.close();
    await closed?.app.close();
    await Promise.all(clients.map((c) => c.close()));
    await redis.destroy();
  });

  it('fails every decision within its timeout and answers with its fail mode, then enforces limits again after SIGCONT', async () => {
    // Enforced before the outage.
    expect(await statuses(`${open.app.url}/inherit`, 'before', 6)).toEqual([200, 200, 200, 200, 200, 429]);
    logger.clear();
    open.events.length = 0;
    closed.events.length = 0;

    const ROUNDS = 10;
    const results: Record<string, Timed[]> = {};
    const record = (name: string, r: Timed) => (results[name] ??= []).push(r);
    const lag = lagMonitor();
    redis.pause();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Concurrent within a round, rounds in sequence: both the first timeouts and the breaker's fast path.
        await Promise.all([
          ...['inherit', 'lenient', 'closed', 'local', 'mixed'].map((route) => timed(`${open.app.url}/${route}`, 'during').then((r) => record(`open/${route}`, r))),
          ...['inherit', 'lenient', 'closed', 'local', 'mixed'].map((route) => timed(`${closed.app.url}/${route}`, 'during').then((r) => record(`closed/${route}`, r))),
        ]);
      }
    } finally {
      redis.resume();
    }
    const lagMs = lag.stop();

    const all = Object.values(results).flat();
    const ms = all.map((r) => r.ms);
    console.log(
      `SIGSTOP: ${all.length} requests, timeout ${TIMEOUT_MS} ms: HTTP latency p50 ${percentile(ms, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`,
    );
    const decisionMs = [...open.events, ...closed.events].map((e) => e.latencyMs);
    console.log(
      `SIGSTOP: ${decisionMs.length} failed decisions (onDecision latencyMs): p50 ${percentile(decisionMs, 50).toFixed(1)} ms, ` +
        `p90 ${percentile(decisionMs, 90).toFixed(1)} ms, max ${Math.max(...decisionMs).toFixed(1)} ms; timers up to ${lagMs.toFixed(0)} ms late`,
    );
    for (const latencyMs of decisionMs) expect(latencyMs).toBeLessThanOrEqual(decisionBoundMs(lagMs));
    for (const r of all) expect(r.ms).toBeLessThan(HANG_MS);

    const codes = (name: string) => results[name].map((r) => r.status);
    const only = (status: number) => Array(ROUNDS).fill(status);
    // Module failMode 'open' (the default).
    expect(codes('open/inherit')).toEqual(only(200));
    expect(codes('open/lenient')).toEqual(only(200));
    expect(codes('open/closed')).toEqual(only(503));
    expect(codes('open/mixed')).toEqual(only(503));
    // Module failMode 'closed'.
    expect(codes('closed/inherit')).toEqual(only(503));
    expect(codes('closed/lenient')).toEqual(only(200));
    expect(codes('closed/closed')).toEqual(only(503));
    expect(codes('closed/mixed')).toEqual(only(503));
    // 'local': this instance's in-process limiter, same policy: exactly the limit, then 429.
    for (const name of ['open/local', 'closed/local']) {
      expect(codes(name).filter((s) => s === 200)).toHaveLength(5);
      expect(codes(name).filter((s) => s === 429)).toHaveLength(ROUNDS - 5);
    }
    // A 503 says when to come back, and never leaks a Redis error.
    for (const r of [...results['open/closed'], ...results['closed/inherit']]) {
      expect(r.body).toEqual(UNAVAILABLE_BODY);
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(r.body)).not.toMatch(/redis|timeout|timed out|ECONN/i);
    }

    // Reported once per request and policy through onDecision, with the mode applied.
    for (const [harnessed, inherit] of [[open, 'open'], [closed, 'closed']] as const) {
      const failed = harnessed.events.filter((e) => e.outcome === 'failed');
      expect(failed).toHaveLength(ROUNDS * 6); // 5 routes, mixed has 2 policies
      const modes = failed.reduce<Record<string, number>>((acc, e) => ((acc[e.failMode!] = (acc[e.failMode!] ?? 0) + 1), acc), {});
      expect(modes).toEqual(inherit === 'open' ? { open: 20, closed: 30, local: 10 } : { open: 10, closed: 40, local: 10 });
      // The breaker: after 5 rounds of timeouts (a round's 6 decisions, sent together, fail as
      // one) it stops calling Redis, so the later rounds fail at once.
      const slow = failed.filter((e) => e.latencyMs >= TIMEOUT_MS * 0.9).length;
      expect(slow).toBeLessThanOrEqual(36);
      expect(harnessed.engine.breaker.state).not.toBe('closed');
    }
    // Logged once per burst (one line per instance), not once per request.
    expect(logger.rateLimit('error', 'rate limit decision failed')).toHaveLength(2);

    // After SIGCONT, no restart: the breaker probes, closes, and limits hold again.
    const recovery = await untilDecided(`${open.app.url}/inherit`);
    await untilDecided(`${closed.app.url}/inherit`);
    console.log(`SIGSTOP: decisions by Redis again ${recovery.toFixed(0)} ms after SIGCONT (breaker cool-down 2 s)`);
    expect(await statuses(`${open.app.url}/inherit`, 'after', 6)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await statuses(`${closed.app.url}/closed`, 'after', 6)).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await request(`${open.app.url}/inherit`, { headers: { 'x-client': 'before' } })).status).toBe(429);
    expect(open.engine.breaker.state).toBe('closed');
  });
});

describe.each(CONNECTIONS)('Redis killed and restarted on the same port, redis: %s', (_label, connection) => {
  let redis: RedisServer;
  let h: Harness;
  let client: { close(): Promise<void> } | undefined;
  const logger = new CaptureLogger();

  beforeAll(async () => {
    redis = await RedisServer.start();
    const to = await connectionTo(connection, redis);
    client = to;
    h = await harness(to.redis, {}, logger);
  });
  afterAll(async () => {
    await h?.app.close();
    await client?.close();
    await redis.destroy();
  });

  it('fails fast while it is down (no request hangs) and recovers on its own', async () => {
    expect(await statuses(`${h.app.url}/inherit`, 'before', 6)).toEqual([200, 200, 200, 200, 200, 429]);
    logger.clear();

    // Kill it with requests in flight.
    const eventsBefore = h.events.length;
    const lag = lagMonitor();
    const inFlight = Array.from({ length: 20 }, (_, i) => timed(`${h.app.url}/${i % 2 ? 'inherit' : 'closed'}`, `flight-${i}`));
    await redis.stop();
    const during: Timed[] = await Promise.all(inFlight);

    // While it is down: fail fast, open and closed, for about a second of traffic.
    const downSince = performance.now();
    while (performance.now() - downSince < 1_000) {
      during.push(...(await Promise.all([timed(`${h.app.url}/inherit`, 'down'), timed(`${h.app.url}/closed`, 'down')])));
      await new Promise((r) => setTimeout(r, 20));
    }
    const lagMs = lag.stop();
    const decisionMs = h.events.slice(eventsBefore).map((e) => e.latencyMs);
    for (const latencyMs of decisionMs) expect(latencyMs).toBeLessThanOrEqual(decisionBoundMs(lagMs));
    for (const r of during) expect(r.ms).toBeLessThan(HANG_MS);
    const down = during.slice(20);
    expect(down.filter((_, i) => i % 2 === 0).map((r) => r.status)).toEqual(Array(down.length / 2).fill(200));
    expect(down.filter((_, i) => i % 2 === 1).map((r) => r.status)).toEqual(Array(down.length / 2).fill(503));
    console.log(
      `kill: ${during.length} requests while down, max HTTP latency ${Math.max(...during.map((r) => r.ms)).toFixed(1)} ms, ` +
        `max decision latency ${Math.max(...decisionMs).toFixed(1)} ms; timers up to ${lagMs.toFixed(0)} ms late`,
    );

    await redis.restart();
    const recovery = await untilDecided(`${h.app.url}/inherit`);
    console.log(`kill: decisions by Redis again ${recovery.toFixed(0)} ms after the restart`);
    // The restarted server is empty: nothing of the requests answered while it was gone (those
    // in flight at the kill included) was sent to it after the reconnect.
    const admin = redis.client();
    try {
      expect(await admin.keys('*{flight-*')).toEqual([]);
      expect(await admin.keys('*{down}*')).toEqual([]);
    } finally {
      admin.disconnect();
    }
    // A fresh server: enforcement from scratch, exact.
    expect(await statuses(`${h.app.url}/inherit`, 'after', 6)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await statuses(`${h.app.url}/mixed`, 'after', 6)).toEqual([200, 200, 200, 200, 200, 429]);

    // One line per burst: the failed decisions, and the connection errors of the module's own
    // client (a client the app passed is the app's to watch).
    const owned = connection === 'url';
    expect(logger.rateLimit('error', 'rate limit decision failed')).toHaveLength(1);
    expect(logger.rateLimit('error', 'Redis connection error').length).toBeLessThanOrEqual(owned ? 1 : 0);
    expect(logger.rateLimit('log', 'Redis connection restored')).toHaveLength(owned ? 1 : 0);
    expect(h.events.filter((e) => e.outcome === 'failed').length).toBeGreaterThanOrEqual(down.length);
  });
});

describe('Redis script cache lost', () => {
  let redis: RedisServer;
  let admin: Redis;
  let own: Harness;
  let shared: Harness;
  let nodeRedis: Harness;
  let userClient: Redis;
  let nodeRedisClient: PassedClient;

  beforeAll(async () => {
    redis = await RedisServer.start();
    admin = redis.client();
    userClient = new Redis(redis.url);
    nodeRedisClient = await standaloneClient('node-redis', redis.port);
    // Redis stays up here: a generous timeout, so that a decision slowed by a loaded machine is
    // not failed open and counted as an admission.
    own = await harness(redis.url, { keyPrefix: 'own', timeout: 5_000 });
    shared = await harness(userClient, { keyPrefix: 'shared', timeout: 5_000 });
    nodeRedis = await harness(nodeRedisClient.client as RateLimitModuleOptions['redis'], { keyPrefix: 'node-redis', timeout: 5_000 });
  });
  afterAll(async () => {
    await own?.app.close();
    await shared?.app.close();
    await nodeRedis?.app.close();
    userClient?.disconnect();
    await nodeRedisClient?.close();
    admin?.disconnect();
    await redis.destroy();
  });
  afterEach(() => {
    expect([...own.events, ...shared.events, ...nodeRedis.events].filter((e) => e.outcome === 'failed')).toEqual([]);
  });

  const harnessed = (which: 'own' | 'shared' | 'node-redis') => ({ own, shared, 'node-redis': nodeRedis })[which];

  it.each(['own', 'shared', 'node-redis'] as const)('SCRIPT FLUSH between two requests: the second is decided normally (%s client)', async (which) => {
    const { app } = harnessed(which);
    for (const route of ['inherit', 'mixed']) {
      const first = await request(`${app.url}/${route}`, { headers: { 'x-client': 'flush' } });
      expect([first.status, first.headers['x-ratelimit-remaining']]).toEqual([200, '4']);
      expect(await admin.script('FLUSH')).toBe('OK');
      const second = await request(`${app.url}/${route}`, { headers: { 'x-client': 'flush' } });
      expect([second.status, second.headers['x-ratelimit-remaining']]).toEqual([200, '3']);
    }
  });

  it.each(['own', 'node-redis'] as const)('SCRIPT FLUSH under concurrent traffic: limits stay exact (%s client)', async (which) => {
    const url = `${harnessed(which).app.url}/inherit`;
    const pending = Array.from({ length: 30 }, (_, i) => {
      if (i === 10) void admin.script('FLUSH');
      return request(url, { headers: { 'x-client': 'flush-burst' } }).then((r) => r.status);
    });
    const codes = await Promise.all(pending);
    expect(codes.filter((s) => s === 200)).toHaveLength(5);
    expect(codes.filter((s) => s === 429)).toHaveLength(25);
  });
});

describe('Redis unreachable at start-up', () => {
  let port: number;
  let redis: RedisServer | undefined;
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.app.close();
    await redis?.destroy();
  });

  it('the app starts anyway (bounded wait), fails per its mode, and uses Redis as soon as it is there', async () => {
    port = await freePort();
    const started = performance.now();
    h = await harness(`redis://127.0.0.1:${port}`, {});
    const startUp = performance.now() - started;
    expect(startUp).toBeLessThan(5_000 + 5_000); // the store waits at most 5 s for a first connection
    const lag = lagMonitor();
    const open = await timed(`${h.app.url}/inherit`, 'early');
    const closed = await timed(`${h.app.url}/closed`, 'early');
    const lagMs = lag.stop();
    expect([open.status, closed.status]).toEqual([200, 503]);
    expect(h.events.map((e) => e.outcome)).toEqual(['failed', 'failed']);
    for (const e of h.events) expect(e.latencyMs).toBeLessThanOrEqual(decisionBoundMs(lagMs));
    expect(Math.max(open.ms, closed.ms)).toBeLessThan(HANG_MS);

    redis = await RedisServer.start([], port);
    const recovery = await untilDecided(`${h.app.url}/inherit`);
    console.log(`start-up: app up in ${startUp.toFixed(0)} ms without Redis; decisions by Redis ${recovery.toFixed(0)} ms after it started`);
    expect(await statuses(`${h.app.url}/inherit`, 'late', 6)).toEqual([200, 200, 200, 200, 200, 429]);
  });
});

/** A client the app created without connecting it: ioredis with `lazyConnect`, node-redis before `connect()`; both with their offline queues on. */
const UNCONNECTED = [
  ['an ioredis client created with lazyConnect', (url: string) => new Redis(url, { lazyConnect: true })],
  ['a node-redis client not connected yet', (url: string) => createClient({ url, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000) } }).on('error', () => undefined)],
] as const;

describe.each(UNCONNECTED)('a user-provided client: %s', (_label, create) => {
  let redis: RedisServer;
  let client: ReturnType<(typeof UNCONNECTED)[number][1]>;
  let h: Harness;
  beforeAll(async () => {
    redis = await RedisServer.start();
    client = create(redis.url);
    h = await harness(client, {});
  });
  afterAll(async () => {
    await h?.app.close();
    if (client instanceof Redis) client.disconnect();
    else await client.close().catch(() => undefined);
    await redis.destroy();
  });

  it('is connected at start-up (decisions do not stay in failMode)', async () => {
    expect(client instanceof Redis ? client.status : client.isReady).toBe(client instanceof Redis ? 'ready' : true);
    expect(await statuses(`${h.app.url}/inherit`, 'lazy', 6)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(h.events.filter((e) => e.outcome === 'failed')).toEqual([]);
  });

  it('with its offline queue on, still never makes a request wait while Redis is down, nor sends it after the reconnect', async () => {
    await redis.stop();
    const eventsBefore = h.events.length;
    const lag = lagMonitor();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => timed(`${h.app.url}/${i % 2 ? 'inherit' : 'closed'}`, `down-${i}`)));
    const lagMs = lag.stop();
    const failed = h.events.slice(eventsBefore);
    expect(failed.map((e) => e.outcome)).toEqual(Array(10).fill('failed'));
    for (const e of failed) expect(e.latencyMs).toBeLessThanOrEqual(decisionBoundMs(lagMs));
    for (const r of results) expect(r.ms).toBeLessThan(HANG_MS);
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 200 : 503)));

    // Back up (empty): the client's offline queue held nothing of ours, so nothing was charged
    // for the requests answered while Redis was down.
    await redis.restart();
    await untilDecided(`${h.app.url}/inherit`);
    const admin = redis.client();
    try {
      expect(await admin.keys('*down-*')).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });
});
