#!/usr/bin/env node
// What the guard costs a Fastify request, in process CPU: requests injected into the app
// (`fastify.inject`: no sockets, no load generator in the process), so that what is measured is
// the framework and the library's own work. Measures a plain limited route (`/hello`, fixed
// window, 10k clients) and an unlimited one (`/open`) of an app with the module, and `/hello` of
// the same app without it (`none`), as CPU µs per request (user + sys of this process), the routes
// taking turns in slices of BENCH_REQUESTS / 10 (default 20000 each per round), 64 in flight;
// median of BENCH_ROUNDS (default 7).
//   BENCH_STORE=memory (default) | redis (starts a redis-server: the whole path, the store's client included)
//   BENCH_BASELINE_DIST=<another build's dist/>: one child process per build and round, builds
//   alternating (A/B, B/A, ...), each measuring the app with the module only (`none` is the same
//   in both builds); prints each build's medians and the per-round ratios.
import { libInfo, libUrl } from './lib/snapshot.mjs'; // first: snapshots dist/ before the library is imported
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, fmt, shuffled } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const rounds = num('BENCH_ROUNDS', 7);
const requests = num('BENCH_REQUESTS', 20_000);
const baseline = process.env.BENCH_BASELINE_DIST;

if (baseline && !process.env.BENCH_GUARD_CHILD) {
  // Parent: one child per build and round, alternating; each child measures one round.
  const runs = { baseline: [], this: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? ['baseline', 'this'] : ['this', 'baseline']) {
      const env = { ...process.env, BENCH_GUARD_CHILD: '1', BENCH_ROUNDS: '1', ...(name === 'baseline' ? { BENCH_LIB_DIR: baseline } : {}) };
      delete env.BENCH_BASELINE_DIST;
      if (name === 'this') delete env.BENCH_LIB_DIR;
      const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`${name} run failed: ${run.stdout}`);
      runs[name].push(JSON.parse(line.slice(7)));
    }
  }
  console.log(`${rounds} rounds of ${requests} requests per route, builds alternating; CPU µs per request (median)`);
  for (const name of ['baseline', 'this']) {
    const m = (k) => fmt(median(runs[name].map((x) => x[k])), 1);
    console.log(`  ${name.padEnd(8)} /hello ${m('hello')}  /open ${m('open')}`);
  }
  for (const k of ['hello', 'open']) {
    const ratios = runs.this.map((x, i) => x[k] / runs.baseline[i][k]);
    console.log(`  /${k} this/baseline: ${fmt(median(ratios))}× (per round: ${ratios.map((x) => fmt(x)).join(' ')})`);
  }
  process.exit(0);
}

const { Controller, Get, Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { FastifyAdapter } = await import('@nestjs/platform-fastify');
const { RateLimit, RateLimitModule } = await import(libUrl('index.js'));
const { BIG_LIMIT, WINDOW_MS } = await import('./lib/limits.mjs');

const storeKind = process.env.BENCH_STORE ?? 'memory';
const keys = shuffled(Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 0x5eed);

async function app(withModule, redisUrl) {
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
  const child = Boolean(process.env.BENCH_GUARD_CHILD);
  const plain = child ? undefined : await app(false);
  const ours = await app(true, redis?.url);
  const targets = [[ours, '/hello'], [ours, '/open'], ...(plain ? [[plain, '/hello']] : [])];
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const [hello, open, none] = await measure(targets);
    results.push({ hello, open, none });
  }
  await plain?.close();
  await ours.close();
  const m = (k) => median(results.map((x) => x[k]));
  if (child) {
    console.log(`RESULT ${JSON.stringify({ hello: m('hello'), open: m('open') })}`);
  } else {
    const guard = median(results.map((x) => x.hello - x.none));
    console.log(`${libInfo()}\nstore ${storeKind}; CPU µs per request (median of ${rounds}): none ${fmt(m('none'), 1)}, /hello ${fmt(m('hello'), 1)}, /open ${fmt(m('open'), 1)}; the guard on /hello ${fmt(guard, 1)}`);
  }
} finally {
  await redis?.stop();
}
