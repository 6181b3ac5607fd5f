// The contestants of the in-process scenarios (decision throughput, Redis cost, flood).
// Each side is `{ id, label, command, open(url) -> { call(key) -> Promise<boolean allowed>, close() } }`;
// `command` is the top-level Redis command it issues (for usec_per_call).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { InMemoryMetricExporter, AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { libUrl } from './snapshot.mjs';

const { RATE_LIMIT_STORE, RateLimitModule, RateLimiterService } = await import(libUrl('index.js'));
const { DECIDE_SCRIPT } = await import(libUrl('generated/decide-script.js'));
const { RateLimitPrometheusModule } = await import(libUrl('prometheus/index.js'));
const { RateLimitOpenTelemetryModule } = await import(libUrl('opentelemetry/index.js'));

import { BIG_LIMIT, DECISION_TIMEOUT_MS, FLOOD_LIMIT, FLOOD_WINDOW_MS, MEMORY_LIMIT, WINDOW_MS } from './limits.mjs';

const apps = new Map();

/**
 * The metrics module of a side, and what to shut down with it: prom-client on a registry of its
 * own; OpenTelemetry on an SDK meter whose reader exports every 5 s (as a deployment would), so
 * the instruments aggregate for real.
 */
function metricsModule(metrics) {
  if (metrics === 'prometheus') return { module: RateLimitPrometheusModule.forRoot({ registry: new Registry() }), close: async () => undefined };
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 5_000 })] });
  return { module: RateLimitOpenTelemetryModule.forRoot({ meter: provider.getMeter('bench') }), close: () => provider.shutdown() };
}

/**
 * What the module is given as `redis`: 'own', the URL (a client it creates and configures
 * itself); 'ioredis', an existing plain ioredis client; 'node-redis', an existing node-redis
 * client (both used as they are). Returns it and what closes it after the app.
 */
async function redisOption(url, passed) {
  if (passed === 'ioredis') {
    const redis = new Redis(url);
    return { redis, close: async () => redis.quit() };
  }
  if (passed === 'node-redis') {
    const redis = createClient({ url }).on('error', () => undefined);
    await redis.connect();
    return { redis, close: async () => redis.close() };
  }
  return { redis: url, close: async () => undefined };
}

/** One Nest application context per module config, shared by the sides that use it. */
async function limiterService(url, denyCache, passed = 'own', metrics = 'none', store = 'redis') {
  const id = `${url}|${denyCache}|${passed}|${metrics}|${store}`;
  if (!apps.has(id)) {
    const promise = (async () => {
      class BenchModule {}
      const { redis, close: closeClient } = await redisOption(url, passed);
      const options = { ...(store === 'memory' ? { store } : { redis }), denyCache: { enabled: denyCache }, ...(DECISION_TIMEOUT_MS ? { timeout: DECISION_TIMEOUT_MS } : {}) };
      const withMetrics = metrics === 'none' ? undefined : metricsModule(metrics);
      Module({ imports: [RateLimitModule.forRoot(options), ...(withMetrics ? [withMetrics.module] : [])] })(BenchModule);
      const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
      const close = async () => {
        await app.close();
        await closeClient();
        await withMetrics?.close();
      };
      return { close, service: app.get(RateLimiterService) };
    })();
    apps.set(id, promise);
  }
  return (await apps.get(id)).service;
}

export async function closeApps() {
  for (const promise of apps.values()) await (await promise).close();
  apps.clear();
}

const client = (url, autoPipelining = false) => new Redis(url, autoPipelining ? { enableAutoPipelining: true } : {});

export class FailedOpen extends Error {}
/**
 * An admitted charge always leaves `remaining` below `limit`; a decision with the full budget and
 * no reset is the service's fail-open answer (Redis timed out or the breaker is open): not a decision.
 */
const checked = (d) => {
  if (d.allowed && d.remaining === d.limit && d.resetMs === 0) throw new FailedOpen('failed open (no Redis answer)');
  return d.allowed;
};

/** This library, one algorithm, through `RateLimiterService.consume`. */
function ours(algorithm, { limit = BIG_LIMIT, windowMs = WINDOW_MS, denyCache = true, passed = 'own', metrics = 'none', store = 'redis', inline = false, name, label, id } = {}) {
  // One policy object for the whole run (the service caches its compiled form by identity), or
  // with `inline` a new literal on every call, as `consume(key, { ... })` is usually written.
  const policyName = name ?? algorithm.replace(/[^a-z]/g, '');
  const policy = { algorithm, limit, window: windowMs, name: policyName };
  const consume = inline
    ? (service, key) => service.consume(key, { algorithm, limit, window: windowMs, name: policyName })
    : (service, key) => service.consume(key, policy);
  return {
    id: id ?? `ours-${algorithm}${denyCache ? '' : '-nocache'}`,
    label: label ?? `nestjs-redis-rate-limit ${algorithm}`,
    command: 'evalsha',
    async open(url) {
      const service = await limiterService(url, denyCache, passed, metrics, store);
      return { call: (key) => consume(service, key).then(checked), close: async () => undefined };
    },
  };
}

function flexible({ limit = BIG_LIMIT, windowMs = WINDOW_MS, inMemoryBlock = false } = {}) {
  return {
    id: inMemoryBlock ? 'rlflx-inmem' : 'rlflx',
    label: inMemoryBlock ? 'rate-limiter-flexible (inMemoryBlockOnConsumed)' : 'rate-limiter-flexible RateLimiterRedis',
    command: 'evalsha',
    async open(url) {
      const redis = client(url);
      const limiter = new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: 'rlflx',
        points: limit,
        duration: windowMs / 1000,
        ...(inMemoryBlock ? { inMemoryBlockOnConsumed: limit + 1 } : {}),
      });
      const denied = (res) => {
        if (res instanceof Error) throw res;
        return false;
      };
      return { call: (key) => limiter.consume(key).then(() => true, denied), close: async () => redis.quit() };
    },
  };
}

function throttlerStorage({ limit = BIG_LIMIT, windowMs = WINDOW_MS } = {}) {
  return {
    id: 'throttler',
    label: '@nest-lab/throttler-storage-redis increment',
    command: 'eval',
    async open(url) {
      const redis = client(url);
      const storage = new ThrottlerStorageRedisService(redis);
      return {
        call: (key) => storage.increment(key, windowMs, limit, windowMs, 'default').then((r) => !r.isBlocked),
        close: async () => redis.quit(),
      };
    },
  };
}

const TRIVIAL_SCRIPT = 'return 1';

function rawEvalsha({ autoPipelining = false } = {}) {
  return {
    id: autoPipelining ? 'evalsha-autopipe' : 'evalsha',
    label: autoPipelining ? 'raw EVALSHA `return 1`, ioredis enableAutoPipelining (informational)' : 'raw EVALSHA `return 1` (ceiling)',
    command: 'evalsha',
    async open(url) {
      const redis = client(url, autoPipelining);
      const sha = await redis.script('LOAD', TRIVIAL_SCRIPT);
      return { call: (key) => redis.evalsha(sha, 1, key, '1').then(() => true), close: async () => redis.quit() };
    },
  };
}

/**
 * The exact arguments the library passes to its `decide` command for one policy (ARGV only; the
 * format is the library's business and changes): recorded from one `consume` in a throwaway app,
 * from the EVALSHA the store sends on its client (one request: a batch of one).
 */
export async function captureDecideArgs(url, policy) {
  class CaptureModule {}
  Module({ imports: [RateLimitModule.forRoot({ redis: url })] })(CaptureModule);
  const app = await NestFactory.createApplicationContext(CaptureModule, { logger: false });
  let captured;
  try {
    const redis = app.get(RATE_LIMIT_STORE).redis.client;
    const send = redis.sendCommand;
    // Every command passes through sendCommand: an EVALSHA's args are [sha, numberOfKeys, ...keys, ...argv].
    redis.sendCommand = function (command, ...rest) {
      if (command.name === 'evalsha') captured ??= command.args.slice(2 + Number(command.args[1]));
      return send.call(this, command, ...rest);
    };
    await app.get(RateLimiterService).consume('198.51.100.7', policy);
  } finally {
    await app.close();
  }
  if (!captured) throw new Error('could not record the arguments of the decide command');
  return captured;
}

export const GCRA_POLICY = { algorithm: 'gcra', limit: BIG_LIMIT, window: WINDOW_MS, name: 'gcra' };

/**
 * The library's own `decide` script (gcra, the very ARGV the service sends), called with a plain
 * EVALSHA on a plain client: the difference to `ours-gcra` is the library's JS (and its client
 * options); to `evalsha`, the script and its arguments.
 */
function rawDecide() {
  return {
    id: 'decide-raw',
    label: 'raw EVALSHA of the library\'s decide script, gcra args (informational)',
    command: 'evalsha',
    async open(url) {
      const argv = await captureDecideArgs(url, GCRA_POLICY);
      const redis = client(url);
      const sha = await redis.script('LOAD', DECIDE_SCRIPT);
      const key = (tracker) => `rl:{${tracker}}:graw`;
      const call = (tracker) => redis.evalsha(sha, 1, key(tracker), ...argv).then((reply) => reply[0] === 1);
      return { call, close: async () => redis.quit() };
    },
  };
}

/** The trivial EVALSHA on a node-redis client: that client's ceiling, as `evalsha` is ioredis's. */
function rawEvalshaNodeRedis() {
  return {
    id: 'evalsha-noderedis',
    label: 'raw EVALSHA `return 1`, node-redis client (ceiling)',
    command: 'evalsha',
    async open(url) {
      const redis = createClient({ url }).on('error', () => undefined);
      await redis.connect();
      const sha = await redis.scriptLoad(TRIVIAL_SCRIPT);
      return { call: (key) => redis.evalSha(sha, { keys: [key], arguments: ['1'] }).then(() => true), close: async () => redis.close() };
    },
  };
}

function rawPing() {
  return {
    id: 'ping',
    label: 'raw PING (ceiling)',
    command: 'ping',
    async open(url) {
      const redis = client(url);
      return { call: () => redis.ping().then(() => true), close: async () => redis.quit() };
    },
  };
}

export const OUR_ALGORITHMS = ['gcra', 'token-bucket', 'fixed-window', 'sliding-window', 'sliding-log'];

/** Decision throughput: every side admits every call on 10k keys. */
export function decisionSides() {
  return [
    ...OUR_ALGORITHMS.map((a) => ours(a)),
    ours('gcra', { inline: true, id: 'ours-gcra-inline', label: 'nestjs-redis-rate-limit gcra, the policy an inline literal on every call' }),
    // The module on a node-redis client the app passes, next to its own ioredis client: the same
    // script and batching, another client library.
    ours('gcra', { passed: 'node-redis', id: 'ours-gcra-noderedis', label: 'nestjs-redis-rate-limit gcra, redis: a node-redis client' }),
    ours('sliding-window', { passed: 'node-redis', id: 'ours-sliding-window-noderedis', label: 'nestjs-redis-rate-limit sliding-window, redis: a node-redis client' }),
    flexible(),
    throttlerStorage(),
    rawEvalsha(),
    rawEvalshaNodeRedis(),
    rawPing(),
    rawDecide(),
    // Informational: the trivial EVALSHA through an auto-pipelining client (what one socket write
    // for many commands gives when the concurrent callers issue commands in the same tick).
    rawEvalsha({ autoPipelining: true }),
    // Only with BENCH_EXTRA=1: the module given an existing plain ioredis client (it then uses that
    // client as it is, without the options it sets on the clients it creates itself).
    ...(process.env.BENCH_EXTRA === '1'
      ? [ours('gcra', { passed: 'ioredis', id: 'ours-gcra-plainclient', label: 'nestjs-redis-rate-limit gcra, redis: an existing plain ioredis client (informational)' })]
      : []),
  ];
}

/**
 * The cost of metrics: the same gcra decisions without them, with prom-client and with
 * OpenTelemetry; on Redis, and on the memory store, whose decisions cost the least (no round
 * trip), so that the metrics' own work is the largest share there: the worst case.
 */
export function metricsSides() {
  const sides = [];
  for (const store of ['redis', 'memory']) {
    const suffix = store === 'memory' ? '-memory' : '';
    const on = store === 'memory' ? ', memory store' : '';
    sides.push(
      ours('gcra', { store, id: `metrics-off${suffix}`, label: `gcra${on}, no metrics` }),
      ours('gcra', { store, metrics: 'prometheus', id: `metrics-prometheus${suffix}`, label: `gcra${on}, RateLimitPrometheusModule` }),
      ours('gcra', { store, metrics: 'opentelemetry', id: `metrics-opentelemetry${suffix}`, label: `gcra${on}, RateLimitOpenTelemetryModule (SDK meter)` }),
    );
  }
  return sides;
}

/** Bytes per tracked key: the sides that store state. */
export function memorySides() {
  const budget = { limit: MEMORY_LIMIT, windowMs: WINDOW_MS };
  return [...OUR_ALGORITHMS.map((a) => ours(a, budget)), flexible(budget), throttlerStorage(budget)];
}

/** One abusive key: every call is denied. */
export function floodSides() {
  const flood = { limit: FLOOD_LIMIT, windowMs: FLOOD_WINDOW_MS };
  return [
    ours('fixed-window', { ...flood, name: 'flood', id: 'ours-flood', label: 'nestjs-redis-rate-limit fixed-window, denyCache on' }),
    ours('fixed-window', { ...flood, name: 'flood', denyCache: false, id: 'ours-flood-nocache', label: 'nestjs-redis-rate-limit fixed-window, denyCache off' }),
    flexible(flood),
    flexible({ ...flood, inMemoryBlock: true }),
    throttlerStorage(flood),
  ];
}
