#!/usr/bin/env node
// Two builds of this library, side by side over HTTP: is a route that does not use a feature
// unchanged by it? `BENCH_BASELINE_DIST=<another build's dist/> node bench/builds.mjs` (after
// `npm run build`) measures an unlimited route (`GET /open`, in an app that imports the module)
// and a plain limited one (`GET /hello`, fixed window, 10k clients) on Express and Fastify, the
// two builds interleaved (A/B, B/A, ...) for BENCH_ROUNDS rounds (default 5), and prints the
// median req/s, p99 and server CPU per request of each side with the median of the per-round ratios.
//   BENCH_HTTP_SECONDS (default 3), BENCH_WARMUP_SECONDS (default 1), BENCH_CONNECTIONS (default 64),
//   BENCH_ADAPTERS (default express,fastify).
import { libInfo } from './lib/snapshot.mjs'; // first: snapshots dist/ before the library is imported
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cannon, HttpServer } from './lib/http.mjs';
import { BenchRedis } from './lib/redis.mjs';
import { fmt, fmtInt, fmtRatio, median, shuffled } from './lib/stats.mjs';

const baseline = process.env.BENCH_BASELINE_DIST;
if (!baseline || !existsSync(join(baseline, 'index.js'))) throw new Error('BENCH_BASELINE_DIST must name the dist/ of another build');
const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const rounds = num('BENCH_ROUNDS', 5);
const seconds = num('BENCH_HTTP_SECONDS', 3);
const warmup = num('BENCH_WARMUP_SECONDS', 1);
const connections = num('BENCH_CONNECTIONS', 64);
const tmpDir = join(dirname(fileURLToPath(import.meta.url)), '.tmp');
const keys = shuffled(Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 0x5eed);
const log = (line) => process.stdout.write(`${line}\n`);

mkdirSync(tmpDir, { recursive: true });
log(`this build: ${libInfo()}\nbaseline:   ${baseline}\n${rounds} rounds, ${seconds} s each, ${connections} connections; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const redis = await BenchRedis.start(tmpDir);
try {
  for (const adapter of (process.env.BENCH_ADAPTERS ?? 'express,fastify').split(',')) {
    const sides = {
      baseline: await HttpServer.start(adapter, 'ours', redis.url, { BENCH_LIB_DIR: baseline }),
      this: await HttpServer.start(adapter, 'ours', redis.url),
    };
    for (const path of ['/open', '/hello']) {
      const results = { baseline: [], this: [] };
      for (let r = 0; r < rounds; r++) {
        for (const name of r % 2 === 0 ? ['baseline', 'this'] : ['this', 'baseline']) {
          await redis.flush();
          await cannon(sides[name].url, { path, seconds: warmup, connections, keys });
          const cpu0 = sides[name].cpuSeconds();
          const res = await cannon(sides[name].url, { path, seconds, connections, keys });
          res.cpuUsPerReq = ((sides[name].cpuSeconds() - cpu0) * 1e6) / res.total;
          results[name].push(res);
        }
      }
      const ratio = median(results.this.map((res, r) => res.rps / results.baseline[r].rps));
      const line = (name) =>
        `${fmtInt(median(results[name].map((res) => res.rps)))} req/s, p99 ${fmt(median(results[name].map((res) => res.p99)), 0)} ms, ` +
        `server CPU ${fmt(median(results[name].map((res) => res.cpuUsPerReq)), 1)} µs/req`;
      log(`${adapter} GET ${path}: baseline ${line('baseline')}; this ${line('this')}; this/baseline ${fmtRatio(ratio)} (per round: ${results.this.map((res, r) => fmt(res.rps / results.baseline[r].rps)).join(' ')})`);
    }
    await Promise.all(Object.values(sides).map((side) => side.stop()));
  }
} finally {
  // Servers still running (a failed run) are killed on exit (bench/lib/children.mjs).
  await redis.stop();
}
