#!/usr/bin/env node
// What the guard costs a Fastify request, in process CPU: requests injected into the app
// (`fastify.inject`: no sockets, no load generator in the process), so that what is measured is
// the framework and the library's own work. Measures a plain limited route (`/hello`, fixed
// window, 10k clients) and an unlimited one (`/open`) of an app with the module, and `/hello` of
// the same app without it (`none`), as CPU µs per request (user + sys of this process), the routes
// taking turns in slices of BENCH_REQUESTS / 10 (default 20000 each per round), 64 in flight;
// median of BENCH_ROUNDS (default 7).
//   BENCH_STORE=memory (default) | redis (starts a redis-server: the whole path, the store's client included)
//   BENCH_BASELINE_DIST=<another build's dist/>: an app of each build in this one process, their
//   routes taking turns slice by slice (a change in the machine's load falls on both alike);
//   prints each build's medians and the per-round ratios.
import { libInfo, libUrl } from './lib/snapshot.mjs'; // first: snapshots dist/ before the library is imported
import 'reflect-metadata';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, fmt, shuffled } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const rounds = num('BENCH_ROUNDS', 7);
const requests = num('BENCH_REQUESTS', 20_000);
const baseline = process.env.BENCH_BASELINE_DIST;

const { Controller, Get, Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const thisLib = await import(libUrl('index.js'));
const baselineLib = baseline ? await import(pathToFileURL(join(baseline, 'index.js')).href) : undefined;
const { BIG_LIMIT, WINDOW_MS } = await import('./lib/limits.mjs');

const storeKind = process.env.BENCH_STORE ?? 'memory';
const keys = shuffled(Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 0x5eed);

async function app(lib, redisUrl) {
  const withModule = lib !== undefined;
  const { RateLimit, RateLimitModule } = lib ?? {};
  class HelloController {
    hello() {
      return 'hello';
    }
    open() {
      return 'hello';
    }
  }
  const decorate = (name, decorators) => {
    const descriptor = Object.getOwnPropertyDescriptor(HelloController.prototype, name);
    Object.defineProperty(HelloController.prototype, name, Reflect.decorate(decorators, HelloController.prototype, name, descriptor) ?? descriptor);
  };
  decorate('hello', [Get('hello'), ...(withModule ? [RateLimit({ algorithm: 'fixed-window', limit: BIG_LIMIT, window: WINDOW_MS })] : [])]);
  decorate('open', [Get('open')]);
  Controller()(HelloController);
  class AppModule {}
  const store = storeKind === 'redis' ? { redis: redisUrl } : { store: 'memory' };
  const imports = withModule ? [RateLimitModule.forRoot({ ...store, tracker: (context) => context.switchToHttp().getRequest().headers['x-client-id'], timeout: 1000 })] : [];
  Module({ imports, controllers: [HelloController] })(AppModule);
  const nest = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  await nest.init();
  await nest.getHttpAdapter().getInstance().ready();
  return nest;
}

/** Runs `n` injected requests of `path`, 64 in flight. */
async function inject(nest, path, n) {
  const fastify = nest.getHttpAdapter().getInstance();
  let next = 0;
  const one = async () => {
    const res = await fastify.inject({ method: 'GET', url: path, headers: { 'x-client-id': keys[next++ % keys.length] } });
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
  };
  for (let done = 0; done < n; done += 64) await Promise.all(Array.from({ length: 64 }, one));
}

/**
 * CPU µs per request of each target over `requests` requests each, taken in slices of 1/10,
 * the targets rotating slice by slice: a change in the machine's load falls on all alike.
 */
async function measure(targets) {
  for (const [nest, path] of targets) await inject(nest, path, Math.floor(requests / 4));
  const cpu = targets.map(() => 0);
  const slice = Math.ceil(requests / 10 / 64) * 64;
  for (let s = 0; s < 10; s++) {
    for (let t = 0; t < targets.length; t++) {
      const i = (s + t) % targets.length;
      const cpu0 = process.cpuUsage();
      await inject(targets[i][0], targets[i][1], slice);
      const used = process.cpuUsage(cpu0);
      cpu[i] += used.user + used.system;
    }
  }
  return cpu.map((us) => us / (slice * 10));
}

let redis;
if (storeKind === 'redis') {
  const { BenchRedis } = await import('./lib/redis.mjs');
  redis = await BenchRedis.start(join(here, '.tmp'));
}
try {
  const results = [];
  if (baselineLib) {
    // Both builds in this one process, taking turns slice by slice.
    const ours = await app(thisLib, redis?.url);
    const theirs = await app(baselineLib, redis?.url);
    for (let r = 0; r < rounds; r++) {
      const [hello, baseHello, open, baseOpen] = await measure([[ours, '/hello'], [theirs, '/hello'], [ours, '/open'], [theirs, '/open']]);
      results.push({ hello, baseHello, open, baseOpen });
    }
    await ours.close();
    await theirs.close();
    const m = (k) => fmt(median(results.map((x) => x[k])), 1);
    console.log(`${libInfo()}\nbaseline: ${baseline}\nstore ${storeKind}; CPU µs per request, median of ${rounds} rounds:`);
    console.log(`  baseline /hello ${m('baseHello')}  /open ${m('baseOpen')}\n  this     /hello ${m('hello')}  /open ${m('open')}`);
    for (const [k, base] of [['hello', 'baseHello'], ['open', 'baseOpen']]) {
      const ratios = results.map((x) => x[k] / x[base]);
      console.log(`  /${k} this/baseline ${fmt(median(ratios))}× (per round: ${ratios.map((x) => fmt(x)).join(' ')})`);
    }
  } else {
    const plain = await app(undefined);
    const ours = await app(thisLib, redis?.url);
    for (let r = 0; r < rounds; r++) {
      const [none, hello, open] = await measure([[plain, '/hello'], [ours, '/hello'], [ours, '/open']]);
      results.push({ none, hello, open });
    }
    await plain.close();
    await ours.close();
    const m = (k) => fmt(median(results.map((x) => x[k])), 1);
    const guard = fmt(median(results.map((x) => x.hello - x.none)), 1);
    console.log(`${libInfo()}\nstore ${storeKind}; CPU µs per request (median of ${rounds}): none ${m('none')}, /hello ${m('hello')}, /open ${m('open')}; the guard on /hello ${guard}`);
  }
} finally {
  await redis?.stop();
}
