#!/usr/bin/env node
// What the guard costs a Fastify request, in process CPU: requests injected into the app
// (`fastify.inject`: no sockets, no load generator competing for the CPU), so that what is left
// is the framework and the library's own work. Measures, interleaved, an app without the module
// (`none`), and with it a plain limited route (`/hello`, fixed window, 10k clients) and an
// unlimited one (`/open`), as CPU µs per request (user + sys of this process) over
// BENCH_REQUESTS requests (default 20000) per round, 64 at a time; median of BENCH_ROUNDS (default 7).
//   BENCH_STORE=memory (default) | redis (starts a redis-server: the whole path, the store's client included)
//   BENCH_BASELINE_DIST=<another build's dist/>: the same in a child process per build, builds
//   alternating (A/B, B/A, ...), to compare two builds; prints each build's medians.
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
  console.log(`${rounds} rounds of ${requests} requests each, builds alternating; CPU µs per request (median)`);
  for (const name of ['baseline', 'this']) {
    const m = (k) => fmt(median(runs[name].map((x) => x[k])), 1);
    console.log(`  ${name.padEnd(8)} none ${m('none')}  /hello ${m('hello')}  /open ${m('open')}  guard on /hello ${m('guard')} µs`);
  }
  const ratio = median(runs.this.map((x, i) => x.guard / runs.baseline[i].guard));
  console.log(`  guard on /hello, this/baseline: ${fmt(ratio)}× (per round: ${runs.this.map((x, i) => fmt(x.guard / runs.baseline[i].guard)).join(' ')})`);
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

/** CPU µs per request of `requests` injected requests, 64 in flight. */
async function measure(nest, path) {
  const fastify = nest.getHttpAdapter().getInstance();
  let next = 0;
  const one = async () => {
    const res = await fastify.inject({ method: 'GET', url: path, headers: { 'x-client-id': keys[next++ % keys.length] } });
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
  };
  const run = async (n) => {
    for (let done = 0; done < n; done += 64) await Promise.all(Array.from({ length: 64 }, one));
  };
  await run(Math.floor(requests / 4));
  const cpu0 = process.cpuUsage();
  await run(requests);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / requests;
}

let redis;
if (storeKind === 'redis') {
  const { BenchRedis } = await import('./lib/redis.mjs');
  redis = await BenchRedis.start(join(here, '.tmp'));
}
try {
  const plain = await app(false);
  const ours = await app(true, redis?.url);
  const results = [];
  for (let r = 0; r < rounds; r++) {
    const none = await measure(plain, '/hello');
    const hello = await measure(ours, '/hello');
    const open = await measure(ours, '/open');
    results.push({ none, hello, open, guard: hello - none });
  }
  await plain.close();
  await ours.close();
  const m = (k) => median(results.map((x) => x[k]));
  if (process.env.BENCH_GUARD_CHILD) {
    console.log(`RESULT ${JSON.stringify({ none: m('none'), hello: m('hello'), open: m('open'), guard: m('guard') })}`);
  } else {
    console.log(`${libInfo()}\nstore ${storeKind}; CPU µs per request (median of ${rounds}): none ${fmt(m('none'), 1)}, /hello ${fmt(m('hello'), 1)}, /open ${fmt(m('open'), 1)}; the guard on /hello ${fmt(m('guard'), 1)}`);
  }
} finally {
  await redis?.stop();
}
