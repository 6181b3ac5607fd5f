#!/usr/bin/env node
// `lease` on a hot key (DESIGN.md, Performance → Leases), after `npm run build`:
//  1. one instance, 64 callers, one tracker: decisions/s, script calls and Redis µs per decision,
//     without a lease and with lease 10 and 100 (fixed-window and gcra), interleaved rounds;
//  2. 4 instances on one Redis, one tracker, a gcra bucket of 100 a second (burst 100): the most
//     admitted in any 100 ms and any 1 s, against the bucket's bound B + rate × interval;
//  3. 4 instances, a fixed window of 1,000 a second: admitted per window against the limit
//     (the under-admission of units leased to an instance that did not spend them in time).
//   BENCH_ROUNDS (default 3), BENCH_SECONDS (default 2), BENCH_WARMUP_SECONDS (default 0.5),
//   BENCH_ONLY (default 1,2,3: the parts to run).
import { libInfo, libUrl } from './lib/snapshot.mjs'; // first: snapshots dist/ before the library is imported
import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BenchRedis } from './lib/redis.mjs';
import { closedLoop } from './lib/load.mjs';
import { fmt, fmtInt, median, table } from './lib/stats.mjs';

const { RATE_LIMIT_STORE, RateLimitModule, RateLimiterService } = await import(libUrl('index.js'));

const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const rounds = num('BENCH_ROUNDS', 3);
const seconds = num('BENCH_SECONDS', 2);
const warmup = num('BENCH_WARMUP_SECONDS', 0.5);
const only = new Set((process.env.BENCH_ONLY ?? '1,2,3').split(','));
const CALLERS = 64;
/** Parts 2 and 3: one run per lease, on four instances sharing one Redis. */
const runMs = Math.max(3, seconds * 2) * 1000;
const tmpDir = join(dirname(fileURLToPath(import.meta.url)), '.tmp');
const log = (line) => process.stdout.write(`${line}\n`);

/** One app instance: its own module, engine and leases. */
async function instance(url) {
  class LeaseBenchModule {}
  Module({ imports: [RateLimitModule.forRoot({ redis: url, keyPrefix: 'lb', timeout: 1_000 })] })(LeaseBenchModule);
  const app = await NestFactory.createApplicationContext(LeaseBenchModule, { logger: ['error', 'warn'] });
  // The window ends (Redis ms) its store calls charged: where each admitted decision belongs.
  const store = app.get(RATE_LIMIT_STORE);
  const decide = store.decide.bind(store);
  store.decide = async (calls) => {
    const verdict = await decide(calls);
    for (const result of verdict.results) if (result.charge) windowEnds.add(result.charge.value);
    return verdict;
  };
  return { service: app.get(RateLimiterService), close: () => app.close() };
}
const windowEnds = new Set();

async function scriptStats(redis) {
  const stats = await redis.commandStats();
  const calls = (stats.evalsha?.calls ?? 0) + (stats.eval?.calls ?? 0);
  const usec = (stats.evalsha?.usec ?? 0) + (stats.eval?.usec ?? 0);
  return { calls, usec };
}

/**
 * `callers` closed loops over the instances for `ms`; per admitted decision the time it was
 * answered (ms) and the end of its window as the wall clock (Redis's, on this host) reads it:
 * `resetMs` counts from about the decision's start, so from the ask the end errs early by at most
 * the time to Redis and back, never late (but for the 1 ms of rounding).
 */
let failedOpen = 0;
async function admittedTimes(instances, key, policy, ms) {
  const times = [];
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => {
      const { service } = instances[i % instances.length];
      for (let n = 0; n < 10_000_000 && performance.now() < deadline; n++) {
        const asked = Date.now();
        const d = await service.consume(key, policy);
        // A fail-open answer (no Redis reply in time: full budget, no reset) is no decision.
        if (d.allowed && d.remaining === d.limit && d.resetMs === 0) failedOpen++;
        else if (d.allowed) times.push({ at: performance.now(), end: asked + d.resetMs });
      }
    }),
  );
  return times;
}

/** The most entries of sorted `at` times in any interval of `ms`. */
function mostIn(ats, ms) {
  let most = 0;
  for (let i = 0, j = 0; j < ats.length; j++) {
    while (ats[j] - ats[i] >= ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** 1. One instance, one hot key. */
async function hotKey() {
  const one = await instance(redis.url);
  const sides = [];
  for (const algorithm of ['fixed-window', 'gcra']) {
    for (const lease of [undefined, 10, 100]) {
      sides.push({ label: `${algorithm}, ${lease ? `lease ${lease}` : 'no lease'}`, policy: { algorithm, bucket: `hot-${algorithm}-${lease ?? 0}`, limit: 1_000_000_000, window: '1h', ...(lease ? { lease } : {}) } });
    }
  }
  const results = new Map(sides.map((s) => [s.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const call = async () => (await one.service.consume('hot', side.policy)).allowed;
      await closedLoop(call, ['hot'], { concurrency: CALLERS, durationMs: warmup * 1000, record: false });
      const before = await scriptStats(redis);
      const run = await closedLoop(call, ['hot'], { concurrency: CALLERS, durationMs: seconds * 1000 });
      const after = await scriptStats(redis);
      const decisions = run.allowed + run.denied;
      results.get(side.label).push({ rate: run.opsPerSec, calls: (after.calls - before.calls) / decisions, usec: (after.usec - before.usec) / decisions, p99: run.p99 });
    }
  }
  await one.close();
  log('\n1. One instance, 64 callers, one tracker (medians of the rounds)\n');
  log(
    table(
      ['policy', 'decisions/s', 'script calls / decision', 'Redis µs / decision', 'p99 µs'],
      sides.map(({ label }) => {
        const r = results.get(label);
        return [label, fmtInt(median(r.map((x) => x.rate))), fmt(median(r.map((x) => x.calls)), 4), fmt(median(r.map((x) => x.usec)), 2), fmtInt(median(r.map((x) => x.p99)))];
      }),
    ),
  );

}

const LEASES = [undefined, 10, 100];
const leaseLabel = (lease) => (lease ? `lease ${lease}` : 'no lease');

/** Runs `measure(lease)` for each lease, `rounds` times interleaved; the results by lease. */
async function byLease(measure) {
  const results = new Map(LEASES.map((lease) => [lease, []]));
  for (let round = 0; round < rounds; round++) {
    for (const lease of round % 2 ? [...LEASES].reverse() : LEASES) {
      failedOpen = 0;
      const result = await measure(lease, round);
      results.get(lease).push({ ...result, failedOpen });
    }
  }
  return results;
}

/** 2. The most admitted in any 100 ms and any 1 s, against B + rate × interval. */
async function bucketExcess(four) {
  log(`\n2. 4 instances, 64 callers, one tracker, gcra 100 a second (burst 100), ${runMs / 1000} s runs, ${rounds} rounds\n`);
  const results = await byLease(async (lease, round) => {
    const policy = { algorithm: 'gcra', bucket: `bucket-${lease ?? 0}-${round}`, limit: 100, window: '1s', ...(lease ? { lease } : {}) };
    const ats = (await admittedTimes(four, 'bucket', policy, runMs)).map((t) => t.at).sort((a, b) => a - b);
    return { in100: mostIn(ats, 100), in1000: mostIn(ats, 1000) };
  });
  const cell = (r, field, bound) => `${fmtInt(median(r.map((x) => x[field])))} / ${fmtInt(Math.max(...r.map((x) => x[field])))} (bound ${bound})`;
  log(
    table(
      ['policy', 'most in 100 ms (median / max)', 'most in 1 s (median / max)', 'fail-open answers left out'],
      LEASES.map((lease) => {
        const r = results.get(lease);
        return [leaseLabel(lease), cell(r, 'in100', 110), cell(r, 'in1000', 200), fmtInt(r.reduce((a, x) => a + x.failedOpen, 0))];
      }),
    ),
  );
}

/** 3. Admitted per window against the limit, over the windows that ended within the run. */
async function windowShortfall(four) {
  log(`\n3. 4 instances, 64 callers, one tracker, fixed-window 1,000 a second, ${runMs / 1000} s runs, ${rounds} rounds\n`);
  const results = await byLease(async (lease, round) => {
    const policy = { algorithm: 'fixed-window', bucket: `window-${lease ?? 0}-${round}`, limit: 1000, window: '1s', ...(lease ? { lease } : {}) };
    windowEnds.clear();
    const times = await admittedTimes(four, 'window', policy, runMs);
    // Each admitted decision belongs to the first charged window end at or after its estimate.
    // A stall may put one in the window before its own, never outside the run's windows, so
    // the sum over the windows that ended in the run (the last one is cut short) is exact.
    const handles = [...windowEnds].sort((a, b) => a - b).slice(0, -1);
    let admitted = 0;
    for (const { end } of times) if (end - 1 <= handles[handles.length - 1]) admitted++;
    return { windows: handles.length, ratio: admitted / (1000 * handles.length) };
  });
  log(
    table(
      ['policy', 'windows per run', 'admitted / limit (median / worst)', 'fail-open answers left out'],
      LEASES.map((lease) => {
        const r = results.get(lease);
        return [leaseLabel(lease), fmtInt(median(r.map((x) => x.windows))), `${fmt(median(r.map((x) => x.ratio)), 3)} / ${fmt(Math.min(...r.map((x) => x.ratio)), 3)}`, fmtInt(r.reduce((a, x) => a + x.failedOpen, 0))];
      }),
    ),
  );
}

const redis = await BenchRedis.start(tmpDir);
mkdirSync(tmpDir, { recursive: true });
log(`${libInfo()}; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${rounds} rounds of ${seconds} s`);
try {
  if (only.has('1')) await hotKey();
  const four = await Promise.all([0, 1, 2, 3].map(() => instance(redis.url)));
  if (only.has('2')) await bucketExcess(four);
  if (only.has('3')) await windowShortfall(four);
  for (const i of four) await i.close();
} finally {
  await redis.stop();
}
