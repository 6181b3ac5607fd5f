#!/usr/bin/env node
// `npm run bench` (= `npm run build && node bench/run.mjs`): this library against its peers on one
// redis-server that the benchmark starts itself. Every scenario runs its sides interleaved
// (A/B/C, B/C/A, ...) for several rounds and reports the median of rounds; ratios are computed per
// round (both sides saw the same machine state) and then the median is taken.
//
// Options (env, or --quick):
//   BENCH_QUICK=1 | --quick   short run for development (~1.5 min)
//   BENCH_SECONDS             measured seconds per in-process segment (default 3, quick 1)
//   BENCH_WARMUP_SECONDS      warm-up before each segment (default 1, quick 0.5)
//   BENCH_ROUNDS              rounds of the decision scenario (default 5, quick 2)
//   BENCH_METRICS_ROUNDS      rounds of the metrics-cost scenario (default 7, quick 5)
//   BENCH_FLOOD_ROUNDS        rounds of the in-process flood (default 3, quick 1)
//   BENCH_MEMORY_ROUNDS       rounds of the memory scenario (default 3, quick 1)
//   BENCH_HTTP_SECONDS        measured seconds per autocannon run (default 5, quick 2)
//   BENCH_HTTP_FLOOD_SECONDS  measured seconds per HTTP flood run (default 3, quick 1)
//   BENCH_HTTP_ROUNDS         rounds of the HTTP scenarios (default 3, quick 1)
//   BENCH_CONCURRENCY         concurrent callers in-process (default 64)
//   BENCH_CONNECTIONS         autocannon connections (default 64)
//   BENCH_KEYS                distinct trackers (default 10000)
//   BENCH_ONLY                comma list of scenarios: decisions,metrics,memory,flood,http
//   BENCH_SIDES               comma list of side ids to keep in the in-process scenarios
//   BENCH_TIMEOUT_MS          the library's `timeout` in the bench (default 1000; the library's own default is 100)
//   BENCH_EXTRA=1             extra informational sides (the module given a plain existing ioredis client)
//   BENCH_WRITE=0             do not touch bench/RESULTS.md
// Each run measures a private copy of dist/ taken at start (bench/lib/snapshot.mjs).
import { libInfo } from './lib/snapshot.mjs'; // first: snapshots dist/ before the library is imported
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BenchRedis, REDIS_ARGS, redisVersion, statsDelta } from './lib/redis.mjs';
import { closedLoop, oncePerKey } from './lib/load.mjs';
import { closeApps, decisionSides, floodSides, memorySides, metricsSides } from './lib/sides.mjs';
import { metricsWorkNs } from './lib/metrics-work.mjs';
import { FLOOD_LIMIT } from './lib/limits.mjs';
import { cannon, HttpServer } from './lib/http.mjs';
import { fmt, fmtInt, fmtRatio, median, rotate, shuffled, table } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const tmpDir = join(here, '.tmp');
const RESULTS = join(here, 'RESULTS.md');

const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const num = (name, full, quick) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${raw})`);
  return value;
};
const cfg = {
  seconds: num('BENCH_SECONDS', 3, 1),
  warmup: num('BENCH_WARMUP_SECONDS', 1, 0.5),
  rounds: num('BENCH_ROUNDS', 5, 2),
  metricsRounds: num('BENCH_METRICS_ROUNDS', 7, 5),
  floodRounds: num('BENCH_FLOOD_ROUNDS', 3, 1),
  memoryRounds: num('BENCH_MEMORY_ROUNDS', 3, 1),
  httpSeconds: num('BENCH_HTTP_SECONDS', 5, 2),
  httpFloodSeconds: num('BENCH_HTTP_FLOOD_SECONDS', 3, 1),
  httpRounds: num('BENCH_HTTP_ROUNDS', 3, 1),
  concurrency: num('BENCH_CONCURRENCY', 64, 64),
  connections: num('BENCH_CONNECTIONS', 64, 64),
  keys: num('BENCH_KEYS', 10_000, 10_000),
};
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const SIDES = process.env.BENCH_SIDES ? new Set(process.env.BENCH_SIDES.split(',').map((s) => s.trim())) : undefined;
const WRITE = process.env.BENCH_WRITE !== '0';
const want = (scenario) => !ONLY || ONLY.has(scenario);
const keep = (sides) => (SIDES ? sides.filter((s) => SIDES.has(s.id)) : sides);

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Between segments: same heap and Redis state for whoever runs next. */
async function settle(redis) {
  await redis.flush();
  gc();
  await sleep(150);
}

// 10k distinct trackers, IPv4-shaped (what the default tracker produces), in one fixed order.
const TRACKERS = shuffled(
  Array.from({ length: cfg.keys }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
  0x5eed,
);
const ABUSER = '203.0.113.66';
const log = (line) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Scenario 1: decision throughput and latency, plus usec_per_call from INFO commandstats.

async function openAll(sides, url) {
  const opened = [];
  for (const side of sides) {
    try {
      opened.push({ side, handle: await side.open(url) });
    } catch (error) {
      log(`  ! ${side.id} could not start: ${error.message}`);
    }
  }
  return opened;
}

async function decisionsScenario(redis, sides = decisionSides(), roundCount = cfg.rounds, tag = 'decisions') {
  const opened = await openAll(keep(sides), redis.url);
  const rounds = [];
  for (let r = 0; r < roundCount; r++) {
    const row = {};
    for (const { side, handle } of rotate(opened, r)) {
      await settle(redis);
      const cursor = { i: 0 };
      const opts = { concurrency: cfg.concurrency, cursor };
      await closedLoop(handle.call, TRACKERS, { ...opts, durationMs: cfg.warmup * 1000, record: false });
      const before = await redis.commandStats();
      const cpu0 = await redis.cpuSeconds();
      const mark0 = process.hrtime.bigint() / 1000n;
      const res = await closedLoop(handle.call, TRACKERS, { ...opts, durationMs: cfg.seconds * 1000 });
      // For bench/profile.mjs: the measured window on the profiler's (monotonic, µs) clock.
      if (process.env.BENCH_PROFILE_MARKS) log(`PROFILE_WINDOW ${side.id} ${mark0} ${process.hrtime.bigint() / 1000n} ${res.ops}`);
      res.redisCpuUsPerOp = ((await redis.cpuSeconds()) - cpu0) * 1e6 / res.ops;
      const delta = statsDelta(before, await redis.commandStats());
      const primary = delta.byCommand[side.command];
      res.usecPerCall = primary?.usecPerCall ?? NaN;
      // A call may decide many requests (the library batches): Redis time per decision is the fair unit.
      res.usecPerOp = primary ? primary.usec / res.ops : NaN;
      res.roundTripsPerOp = (side.command === 'ping' ? primary?.calls ?? 0 : delta.scriptCalls) / res.ops;
      row[side.id] = res;
      log(
        `  [${tag} r${r + 1}] ${side.id.padEnd(20)} ${fmtInt(res.opsPerSec).padStart(9)}/s  p50 ${fmt(res.p50, 0)}µs  p99 ${fmt(res.p99, 0)}µs  ` +
          `cpu node ${fmt(res.cpuUsPerOp, 1)}µs redis ${fmt(res.redisCpuUsPerOp, 1)}µs  redis ${fmt(res.usecPerCall)}µs/call ${fmt(res.usecPerOp)}µs/decision  trips/op ${fmt(res.roundTripsPerOp)}${res.denied ? `  denied ${res.denied}` : ''}${res.errors ? `  errors ${res.errors}` : ''}`,
      );
    }
    rounds.push(row);
  }
  for (const { handle } of opened) await handle.close();
  return { sides: opened.map(({ side }) => side), rounds };
}

// ---------------------------------------------------------------------------------------------
// Scenario 1b: what metrics cost: the decision scenario's gcra side without metrics, with the
// Prometheus module and with the OpenTelemetry module (each its own app), interleaved.

async function metricsScenario(redis) {
  const result = await decisionsScenario(redis, metricsSides(), cfg.metricsRounds, 'metrics');
  // The metrics' own CPU per decision in isolation (robust on a busy machine), per round, median.
  result.work = {};
  for (const kind of ['prometheus', 'opentelemetry']) {
    for (const [shape, options] of Object.entries(WORK_SHAPES)) {
      const samples = [];
      for (let r = 0; r < cfg.metricsRounds; r++) samples.push(await metricsWorkNs(kind, options));
      result.work[`${kind}/${shape}`] = median(samples);
      log(`  [metrics work] ${kind} ${shape}: ${fmt(median(samples), 0)} ns CPU per decision (median of ${samples.length})`);
    }
  }
  return result;
}

/** Loads for the isolated measurement: a loaded Redis-backed app (batches of 32, 64 decisions a turn), and one call per decision. */
const WORK_SHAPES = {
  'batched (32 per store call, 64 per turn)': { decisionsPerCall: 32, decisionsPerTurn: 64 },
  'one store call per decision (memory store; 64 per turn)': { decisionsPerCall: 1, decisionsPerTurn: 64 },
  'one decision per turn and per store call (an idle app)': { decisionsPerCall: 1, decisionsPerTurn: 1, decisions: 100_000 },
};

// ---------------------------------------------------------------------------------------------
// Scenario 2: Redis bytes per tracked key (used_memory delta over 10k trackers, MEMORY USAGE).

async function memoryScenario(redis) {
  const opened = await openAll(keep(memorySides()), redis.url);
  const rounds = [];
  const sampleKeys = {};
  for (let r = 0; r < cfg.memoryRounds; r++) {
    const row = {};
    for (const { side, handle } of rotate(opened, r)) {
      await handle.call('198.51.100.1'); // scripts loaded, connection warm, before the baseline
      await settle(redis);
      await sleep(100);
      const m0 = await redis.usedMemory();
      const errors = await oncePerKey(handle.call, TRACKERS, cfg.concurrency);
      await sleep(250);
      const m1 = await redis.usedMemory();
      const dbsize = await redis.admin.dbsize();
      let usage = 0;
      const SAMPLE = 200;
      for (let i = 0; i < SAMPLE; i++) {
        const key = await redis.admin.randomkey();
        usage += Number(await redis.admin.memory('USAGE', key, 'SAMPLES', '0'));
        sampleKeys[side.id] ??= key;
      }
      row[side.id] = {
        bytesPerTracker: (m1 - m0) / TRACKERS.length,
        keysPerTracker: dbsize / TRACKERS.length,
        memoryUsagePerTracker: (usage / SAMPLE) * (dbsize / TRACKERS.length),
        errors,
      };
      log(
        `  [memory r${r + 1}] ${side.id.padEnd(20)} ${fmt(row[side.id].bytesPerTracker, 1)} B/tracker (used_memory)  ` +
          `${fmt(row[side.id].memoryUsagePerTracker, 1)} B/tracker (MEMORY USAGE)  keys/tracker ${fmt(row[side.id].keysPerTracker)}`,
      );
    }
    rounds.push(row);
  }
  for (const { handle } of opened) await handle.close();
  return { sides: opened.map(({ side }) => side), rounds, sampleKeys };
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: a flood from one blocked client, in-process (deny cache on/off, peers).

async function floodScenario(redis) {
  const opened = await openAll(keep(floodSides()), redis.url);
  const rounds = [];
  const abuser = [ABUSER];
  for (let r = 0; r < cfg.floodRounds; r++) {
    const row = {};
    for (const { side, handle } of rotate(opened, r)) {
      await settle(redis);
      for (let i = 0; i <= FLOOD_LIMIT; i++) await handle.call(ABUSER); // spend the budget
      const opts = { concurrency: cfg.concurrency };
      await closedLoop(handle.call, abuser, { ...opts, durationMs: cfg.warmup * 1000, record: false });
      const before = await redis.commandStats();
      const cpu0 = await redis.cpuSeconds();
      const res = await closedLoop(handle.call, abuser, { ...opts, durationMs: cfg.seconds * 1000 });
      res.redisCpuUsPerOp = ((await redis.cpuSeconds()) - cpu0) * 1e6 / res.ops;
      const delta = statsDelta(before, await redis.commandStats());
      res.redisCallsPerDenied = res.denied ? delta.scriptCalls / res.denied : NaN;
      res.commandsPerDenied = res.denied ? delta.commands / res.denied : NaN;
      row[side.id] = res;
      log(
        `  [flood r${r + 1}] ${side.id.padEnd(20)} ${fmtInt(res.opsPerSec).padStart(9)}/s  p99 ${fmt(res.p99, 0)}µs  ` +
          `denied ${fmtInt(res.denied)}/${fmtInt(res.ops)}  redis calls/denied ${fmt(res.redisCallsPerDenied, 3)}`,
      );
    }
    rounds.push(row);
  }
  for (const { handle } of opened) await handle.close();
  return { sides: opened.map(({ side }) => side), rounds };
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: HTTP overhead (hello world, Express and Fastify) and the HTTP flood.

const ADAPTERS = ['express', 'fastify'];
const HTTP_STACKS = ['none', 'ours', 'throttler'];
const FLOOD_STACKS = ['ours', 'ours-nocache', 'throttler'];

async function httpScenario(redis) {
  const servers = {};
  const overhead = [];
  const flood = [];
  try {
    for (const adapter of ADAPTERS) {
      for (const stack of new Set([...HTTP_STACKS, ...FLOOD_STACKS])) {
        servers[`${adapter}/${stack}`] = await HttpServer.start(adapter, stack, redis.url);
      }
    }
    const base = { connections: cfg.connections };
    for (let r = 0; r < cfg.httpRounds; r++) {
      const row = {};
      for (const adapter of ADAPTERS) {
        for (const stack of rotate(HTTP_STACKS, r)) {
          const server = servers[`${adapter}/${stack}`];
          await settle(redis);
          const run = { ...base, path: '/hello', keys: TRACKERS };
          await cannon(server.url, { ...run, seconds: cfg.warmup });
          const cpu0 = [server.cpuSeconds(), await redis.cpuSeconds()];
          const res = await cannon(server.url, { ...run, seconds: cfg.httpSeconds });
          res.serverCpuUsPerReq = ((server.cpuSeconds() - cpu0[0]) * 1e6) / res.total;
          res.redisCpuUsPerReq = (((await redis.cpuSeconds()) - cpu0[1]) * 1e6) / res.total;
          row[`${adapter}/${stack}`] = res;
          log(
            `  [http r${r + 1}] ${`${adapter}/${stack}`.padEnd(20)} ${fmtInt(res.rps).padStart(7)} req/s  p99 ${res.p99} ms  ` +
              `cpu server ${fmt(res.serverCpuUsPerReq, 1)}µs redis ${fmt(res.redisCpuUsPerReq, 1)}µs per req` +
              `${res.non2xx || res.errors ? `  non-2xx ${res.non2xx} errors ${res.errors}` : ''}`,
          );
        }
      }
      overhead.push(row);
      const floodRow = {};
      for (const adapter of ADAPTERS) {
        for (const stack of rotate(FLOOD_STACKS, r)) {
          const server = servers[`${adapter}/${stack}`];
          await settle(redis);
          const run = { ...base, path: '/flood', fixedClient: ABUSER };
          await cannon(server.url, { ...run, seconds: cfg.warmup }); // spends the budget, then floods
          const before = await redis.commandStats();
          const cpu0 = server.cpuSeconds();
          const res = await cannon(server.url, { ...run, seconds: cfg.httpFloodSeconds });
          res.serverCpuUsPerReq = ((server.cpuSeconds() - cpu0) * 1e6) / res.total;
          const delta = statsDelta(before, await redis.commandStats());
          res.redisCallsPerDenied = res.count429 ? delta.scriptCalls / res.count429 : NaN;
          floodRow[`${adapter}/${stack}`] = res;
          log(
            `  [http-flood r${r + 1}] ${`${adapter}/${stack}`.padEnd(22)} ${fmtInt(res.rps).padStart(7)} req/s  p99 ${res.p99} ms  ` +
              `429 ${fmtInt(res.count429)}/${fmtInt(res.total)}  redis calls/denied ${fmt(res.redisCallsPerDenied, 3)}`,
          );
        }
      }
      flood.push(floodRow);
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
  return { overhead, flood };
}

// ---------------------------------------------------------------------------------------------
// Report.

const medianOf = (rounds, id, field) => median(rounds.map((row) => row[id]?.[field]));
/** Median over rounds of a per-round ratio (both sides of one ratio ran in the same round). */
const medianRatio = (rounds, a, b, field) => median(rounds.map((row) => (row[a] && row[b] ? row[a][field] / row[b][field] : NaN)));
const status = (ok) => (ok === undefined ? 'n/a' : ok ? '**met**' : '**NOT met**');
const check = (value, pass) => (Number.isFinite(value) ? pass(value) : undefined);

function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function machineInfo(startLoad) {
  const cpus = os.cpus();
  return [
    `- Date: ${new Date().toISOString()}; mode: ${QUICK ? 'quick' : 'full'}; measured: ${libInfo()} (a copy taken at start)`,
    `- CPU: ${cpus[0]?.model ?? '?'} × ${cpus.length} logical cores; RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load average at start ${startLoad.map((l) => l.toFixed(2)).join(' ')}`,
    `- OS: ${os.type()} ${os.release()} (${os.arch()}); Node ${process.version}; ${redisVersion()}`,
    `- Packages: ioredis ${pkgVersion('ioredis')}, @nestjs/core ${pkgVersion('@nestjs/core')}, rate-limiter-flexible ${pkgVersion('rate-limiter-flexible')}, ` +
      `@nestjs/throttler ${pkgVersion('@nestjs/throttler')}, @nest-lab/throttler-storage-redis ${pkgVersion('@nest-lab/throttler-storage-redis')}, ` +
      `autocannon ${pkgVersion('autocannon')}, express adapter ${pkgVersion('@nestjs/platform-express')}, fastify adapter ${pkgVersion('@nestjs/platform-fastify')}`,
    `- Settings: ${JSON.stringify(cfg)}`,
  ].join('\n');
}

function commands() {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_') && !k.startsWith('BENCH_LIB_'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    '```sh',
    `${env ? `${env} ` : ''}npm run bench${QUICK && process.argv.includes('--quick') ? ' -- --quick' : ''}   # = npm run build && node bench/run.mjs`,
    `# redis-server it starts (port chosen free at run time):`,
    `redis-server --port <free> --dir bench/.tmp/redis ${REDIS_ARGS.map((a) => (a === '' ? "''" : a)).join(' ')}`,
    `# HTTP servers: node bench/lib/http-server.mjs (one child process per adapter × stack); load: autocannon -c ${cfg.connections} -p 1 -d ${cfg.httpSeconds}`,
    `# profile of the gcra decision loop: node bench/profile.mjs`,
    '```',
  ].join('\n');
}

function buildReport(results, startLoad, loads, failures, elapsedS) {
  const out = [];
  const targets = [];
  const { decisions, metrics, memory, flood, http } = results;

  if (decisions) {
    const rs = decisions.rounds;
    const ids = decisions.sides.map((s) => s.id);
    const has = (id) => ids.includes(id);
    const rows = decisions.sides.map((s) => [
      s.label,
      fmtInt(medianOf(rs, s.id, 'opsPerSec')),
      fmt(medianOf(rs, s.id, 'p50'), 0),
      fmt(medianOf(rs, s.id, 'p99'), 0),
      fmt(medianOf(rs, s.id, 'cpuUsPerOp'), 1),
      fmt(medianOf(rs, s.id, 'redisCpuUsPerOp'), 1),
      fmt(medianOf(rs, s.id, 'usecPerCall')),
      fmt(medianOf(rs, s.id, 'usecPerOp')),
      fmt(medianOf(rs, s.id, 'roundTripsPerOp')),
      fmtInt(rs.reduce((sum, row) => sum + (row[s.id]?.errors ?? 0), 0)),
      has('rlflx') ? fmtRatio(medianRatio(rs, s.id, 'rlflx', 'opsPerSec')) : 'n/a',
      has('throttler') ? fmtRatio(medianRatio(rs, s.id, 'throttler', 'opsPerSec')) : 'n/a',
      has('evalsha') ? fmtRatio(medianRatio(rs, s.id, 'evalsha', 'opsPerSec')) : 'n/a',
    ]);
    out.push(
      `### Decision throughput and latency (${cfg.concurrency} concurrent callers, ${fmtInt(cfg.keys)} keys, ${cfg.rounds} rounds × ${cfg.seconds} s, median of rounds)`,
      '',
      table(['side', 'decisions/s', 'p50 µs', 'p99 µs', 'Node CPU µs/decision', 'Redis CPU µs/decision', 'Redis µs/call (commandstats)', 'Redis µs/decision (commandstats)', 'round trips/decision', 'failed calls (all rounds)', 'vs rate-limiter-flexible', 'vs throttler-storage-redis', 'vs raw EVALSHA'], rows),
      '',
      '`Redis µs/call` is `usec_per_call` of the side\'s top-level command (EVALSHA; EVAL for throttler-storage-redis, which sends its script body every call; PING) from `INFO commandstats` over the measured seconds; `Redis µs/decision` is the same time divided by the decisions made (this library decides the concurrent requests of one event-loop turn in one call). ' +
        '`Node CPU µs/decision` is user+sys CPU of the benchmark process (all threads) per decision, `Redis CPU` the same for redis-server (`INFO cpu`): both are steadier than wall-clock rates on a shared machine. Ratios are medians of per-round ratios.',
      '',
    );
    for (const a of ['gcra', 'token-bucket', 'fixed-window']) {
      const id = `ours-${a}`;
      if (!has(id)) continue;
      const vsF = has('rlflx') ? medianRatio(rs, id, 'rlflx', 'opsPerSec') : NaN;
      const vsT = has('throttler') ? medianRatio(rs, id, 'throttler', 'opsPerSec') : NaN;
      const vsE = has('evalsha') ? medianRatio(rs, id, 'evalsha', 'opsPerSec') : NaN;
      targets.push([`Decisions/s ${a} ≥ 1.2× rate-limiter-flexible`, fmtRatio(vsF), status(check(vsF, (v) => v >= 1.2))]);
      targets.push([`Decisions/s ${a} ≥ 1.5× throttler-storage-redis`, fmtRatio(vsT), status(check(vsT, (v) => v >= 1.5))]);
      targets.push([`Decisions/s ${a} ≥ 0.85× raw EVALSHA`, fmtRatio(vsE), status(check(vsE, (v) => v >= 0.85))]);
    }
    if (has('ours-gcra-inline') && has('ours-gcra')) {
      const vsConstant = medianRatio(rs, 'ours-gcra-inline', 'ours-gcra', 'opsPerSec');
      targets.push(['Decisions/s gcra, inline policy literal ≥ 0.95× a constant policy', fmtRatio(vsConstant), status(check(vsConstant, (v) => v >= 0.95))]);
    }
    for (const a of ['gcra', 'fixed-window']) {
      const id = `ours-${a}`;
      if (!has(id)) continue;
      const peers = ['rlflx', 'throttler'].filter(has);
      const ourUs = medianOf(rs, id, 'usecPerOp');
      const best = Math.min(...peers.map((p) => medianOf(rs, p, 'usecPerOp')));
      const bestId = peers.find((p) => medianOf(rs, p, 'usecPerOp') === best);
      targets.push([
        `Redis usec (commandstats) per ${a} decision ≤ best peer`,
        `${fmt(ourUs)} µs vs ${fmt(best)} µs (${bestId ?? 'n/a'}) = ${fmtRatio(ourUs / best)}`,
        status(check(ourUs / best, (v) => v <= 1)),
      ]);
    }
    const peers = ['rlflx', 'throttler'].filter(has);
    if (has('decide-raw') && peers.length > 0) {
      const lone = medianOf(rs, 'decide-raw', 'usecPerOp');
      const best = Math.min(...peers.map((p) => medianOf(rs, p, 'usecPerOp')));
      targets.push(['Redis usec per lone decision (decide-raw, one request per call) ≤ best peer', `${fmt(lone)} µs vs ${fmt(best)} µs = ${fmtRatio(lone / best)}`, status(check(lone / best, (v) => v <= 1))]);
    }
    if (has('ours-sliding-log') && has('ours-gcra')) {
      const log = medianOf(rs, 'ours-sliding-log', 'usecPerOp');
      const gcra = medianOf(rs, 'ours-gcra', 'usecPerOp');
      targets.push(['Redis usec per sliding-log decision ≤ 2× gcra\'s', `${fmt(log)} µs vs ${fmt(gcra)} µs = ${fmtRatio(log / gcra)}`, status(check(log / gcra, (v) => v <= 2))]);
    }
  }

  if (metrics) {
    const rs = metrics.rounds;
    const ids = metrics.sides.map((s) => s.id);
    const baseline = (id) => (id.endsWith('-memory') ? 'metrics-off-memory' : 'metrics-off');
    const rows = metrics.sides.map((s) => {
      const off = baseline(s.id);
      return [
        s.label,
        fmtInt(medianOf(rs, s.id, 'opsPerSec')),
        fmt(medianOf(rs, s.id, 'p50'), 0),
        fmt(medianOf(rs, s.id, 'p99'), 0),
        fmt(medianOf(rs, s.id, 'cpuUsPerOp'), 2),
        ids.includes(off) ? fmt(median(rs.map((row) => row[s.id]?.cpuUsPerOp - row[off]?.cpuUsPerOp)), 2) : 'n/a',
        fmtInt(rs.reduce((sum, row) => sum + (row[s.id]?.errors ?? 0), 0)),
        ids.includes(off) ? fmtRatio(medianRatio(rs, s.id, off, 'opsPerSec')) : 'n/a',
      ];
    });
    out.push(
      `### What metrics cost (gcra, ${cfg.concurrency} concurrent callers, ${fmtInt(cfg.keys)} keys, ${cfg.metricsRounds} rounds × ${cfg.seconds} s, median of rounds)`,
      '',
      table(['side', 'decisions/s', 'p50 µs', 'p99 µs', 'Node CPU µs/decision', 'Node CPU µs/decision vs no metrics (median of per-round differences)', 'failed calls (all rounds)', 'vs no metrics (same store)'], rows),
      '',
      'Each side is its own app; one decision (one policy) is one count, reported once per event-loop turn; each batch sent to Redis together, and each memory-store call, is one histogram observation. ' +
        'The memory-store sides are the worst case: a decision there costs a few µs of CPU and no round trip, so the metrics\' share is the largest.',
      '',
    );
    out.push(
      `The metrics' own work in isolation (\`bench/lib/metrics-work.mjs\`: the engine's observer set and the module's observer, CPU time, which other processes on the machine do not inflate the way they do rates; median of ${cfg.metricsRounds}):`,
      '',
      table(
        ['load', 'Prometheus: CPU ns per decision', 'OpenTelemetry: CPU ns per decision'],
        Object.keys(WORK_SHAPES).map((shape) => [shape, fmt(metrics.work[`prometheus/${shape}`], 0), fmt(metrics.work[`opentelemetry/${shape}`], 0)]),
      ),
      '',
    );
    // The target is on Redis-backed decisions; the memory-store rows above show the worst case.
    for (const [id, name] of [['metrics-prometheus', 'Prometheus'], ['metrics-opentelemetry', 'OpenTelemetry']]) {
      if (!ids.includes(id) || !ids.includes('metrics-off')) continue;
      const ratio = medianRatio(rs, id, 'metrics-off', 'opsPerSec');
      targets.push([`Decisions/s with ${name} metrics ≥ 0.95× without`, fmtRatio(ratio), status(check(ratio, (v) => v >= 0.95))]);
    }
  }

  if (memory) {
    const rs = memory.rounds;
    const rows = memory.sides.map((s) => [
      s.label,
      fmt(medianOf(rs, s.id, 'bytesPerTracker'), 1),
      fmt(medianOf(rs, s.id, 'memoryUsagePerTracker'), 1),
      fmt(medianOf(rs, s.id, 'keysPerTracker'), 2),
      `\`${memory.sampleKeys[s.id] ?? '?'}\``,
    ]);
    out.push(
      `### Redis memory per tracked key (${fmtInt(cfg.keys)} trackers, one decision each, same tracker strings, ${cfg.memoryRounds} rounds)`,
      '',
      table(['side', 'bytes/tracker (used_memory Δ)', 'bytes/tracker (MEMORY USAGE)', 'keys/tracker', 'sample key'], rows),
      '',
      '`used_memory Δ` includes the keyspace and expires dict entries (what a deployment pays); `MEMORY USAGE ... SAMPLES 0` averages 200 random keys. ' +
        'throttler-storage-redis is given the tracker string as its key here; behind `ThrottlerGuard` the key is a 64-hex SHA-256, so it stores more there.',
      '',
    );
    const ids = memory.sides.map((s) => s.id);
    for (const [a, bound] of [['gcra', 1], ['token-bucket', 1], ['fixed-window', 1], ['sliding-window', 1.1]]) {
      const id = `ours-${a}`;
      if (!ids.includes(id)) continue;
      const peers = ['rlflx', 'throttler'].filter((p) => ids.includes(p));
      const ours = medianOf(rs, id, 'bytesPerTracker');
      const best = Math.min(...peers.map((p) => medianOf(rs, p, 'bytesPerTracker')));
      const goal = bound === 1 ? 'best peer' : `${bound}× best peer`;
      targets.push([`Redis bytes/tracked key ${a} ≤ ${goal}`, `${fmt(ours, 1)} B vs ${fmt(best, 1)} B = ${fmtRatio(ours / best)}`, status(check(ours / best, (v) => v <= bound))]);
    }
  }

  if (http) {
    const rs = http.overhead;
    const rows = [];
    for (const adapter of ADAPTERS) {
      for (const stack of HTTP_STACKS) {
        const id = `${adapter}/${stack}`;
        rows.push([
          adapter,
          { none: 'no limiter', ours: 'nestjs-redis-rate-limit guard (fixed-window)', throttler: '@nestjs/throttler + throttler-storage-redis' }[stack],
          fmtInt(medianOf(rs, id, 'rps')),
          fmt(medianOf(rs, id, 'p99'), 0),
          fmt(medianOf(rs, id, 'serverCpuUsPerReq'), 1),
          fmt(medianOf(rs, id, 'redisCpuUsPerReq'), 1),
          fmtRatio(medianRatio(rs, id, `${adapter}/none`, 'rps')),
          fmtInt(median(rs.map((row) => row[id]?.non2xx + row[id]?.errors))),
        ]);
      }
      const limited = medianRatio(rs, `${adapter}/ours`, `${adapter}/none`, 'rps');
      const vsThrottler = medianRatio(rs, `${adapter}/ours`, `${adapter}/throttler`, 'rps');
      const floor = adapter === 'express' ? 0.9 : 0.85;
      targets.push([`HTTP ${adapter}: limited/unlimited req/s ≥ ${floor}`, fmtRatio(limited), status(check(limited, (v) => v >= floor))]);
      targets.push([`HTTP ${adapter}: ≥ 1.2× throttler + Redis storage`, fmtRatio(vsThrottler), status(check(vsThrottler, (v) => v >= 1.2))]);
    }
    out.push(
      `### HTTP overhead (hello world, autocannon -c ${cfg.connections}, ${cfg.httpRounds} rounds × ${cfg.httpSeconds} s, ${fmtInt(cfg.keys)} client ids in \`x-client-id\`)`,
      '',
      table(['adapter', 'stack', 'req/s', 'p99 ms', 'server CPU µs/req', 'Redis CPU µs/req', 'vs no limiter', 'non-2xx + errors'], rows),
      '',
    );
  }

  if (flood) {
    const rs = flood.rounds;
    const ids = flood.sides.map((s) => s.id);
    const rows = flood.sides.map((s) => [
      s.label,
      fmtInt(medianOf(rs, s.id, 'opsPerSec')),
      fmt(medianOf(rs, s.id, 'p99'), 0),
      fmt(medianOf(rs, s.id, 'cpuUsPerOp'), 1),
      fmt(medianOf(rs, s.id, 'redisCallsPerDenied'), 3),
      fmt(medianOf(rs, s.id, 'commandsPerDenied'), 2),
      ids.includes('ours-flood-nocache') ? fmtRatio(medianRatio(rs, s.id, 'ours-flood-nocache', 'opsPerSec')) : 'n/a',
    ]);
    out.push(
      `### Flood from one blocked client, in-process (${cfg.concurrency} callers on one key, limit ${FLOOD_LIMIT}/h, ${cfg.floodRounds} rounds × ${cfg.seconds} s)`,
      '',
      table(['side', 'denials/s', 'p99 µs', 'Node CPU µs/denial', 'Redis calls/denied', 'Redis commands/denied (incl. inside scripts)', 'vs denyCache off'], rows),
      '',
    );
    if (ids.includes('ours-flood') && ids.includes('ours-flood-nocache')) {
      const calls = medianOf(rs, 'ours-flood', 'redisCallsPerDenied');
      const speed = medianRatio(rs, 'ours-flood', 'ours-flood-nocache', 'opsPerSec');
      targets.push(['Flood: repeat denials cost 0 Redis calls (denyCache on)', `${fmt(calls, 3)} calls/denied`, status(check(calls, (v) => v < 0.001))]);
      targets.push(['Flood: denyCache ≥ 10× the Redis-path decision rate', fmtRatio(speed), status(check(speed, (v) => v >= 10))]);
    }
  }

  if (http) {
    const rs = http.flood;
    const rows = [];
    for (const adapter of ADAPTERS) {
      for (const stack of FLOOD_STACKS) {
        const id = `${adapter}/${stack}`;
        rows.push([
          adapter,
          { ours: 'nestjs-redis-rate-limit, denyCache on', 'ours-nocache': 'nestjs-redis-rate-limit, denyCache off', throttler: '@nestjs/throttler + throttler-storage-redis' }[stack],
          fmtInt(medianOf(rs, id, 'rps')),
          fmt(medianOf(rs, id, 'p99'), 0),
          fmt(medianOf(rs, id, 'serverCpuUsPerReq'), 1),
          fmt(medianOf(rs, id, 'redisCallsPerDenied'), 3),
          fmtRatio(medianRatio(rs, id, `${adapter}/ours-nocache`, 'rps')),
        ]);
      }
    }
    out.push(
      `### HTTP flood from one blocked client (autocannon -c ${cfg.connections}, one \`x-client-id\`, limit ${FLOOD_LIMIT}/h, ${cfg.httpRounds} rounds × ${cfg.httpFloodSeconds} s)`,
      '',
      table(['adapter', 'stack', '429 req/s', 'p99 ms', 'server CPU µs/req', 'Redis calls/denied', 'vs denyCache off'], rows),
      '',
    );
  }

  const summary = table(['target', 'measured', 'status'], targets);
  return {
    summary,
    markdown: [
      `## ${QUICK ? 'Quick run' : 'Full run'} (generated by bench/run.mjs in ${Math.round(elapsedS)} s)`,
      '',
      machineInfo(startLoad),
      `- Load average (1 min) before → after each scenario: ${loads.map((l) => `${l.name} ${l.before.toFixed(1)} → ${l.after.toFixed(1)} (${Math.round(l.seconds)} s)`).join('; ')}`,
      ...(Math.max(...loads.flatMap((l) => [l.before, l.after]), ...startLoad) > os.cpus().length
        ? [
            '',
            `> **Busy machine:** the load average exceeded the ${os.cpus().length} cores during this run (other processes competing for CPU). ` +
              'Absolute rates are depressed and noisy; the per-round ratios (both sides measured back to back) and the CPU-per-operation columns are the robust numbers.',
          ]
        : []),
      '',
      'Commands:',
      '',
      commands(),
      '',
      ...failures.map((f) => `> **Scenario failed:** ${f}\n`),
      '### Targets (ratios are what we claim; absolute numbers depend on the machine)',
      '',
      summary,
      '',
      ...out,
    ].join('\n'),
  };
}

/** Replaces this mode's section of RESULTS.md, keeping everything else (hand-written notes). */
function writeResults(markdown) {
  const tag = QUICK ? 'quick' : 'full';
  const begin = `<!-- bench:${tag}:begin -->`;
  const end = `<!-- bench:${tag}:end -->`;
  const block = `${begin}\n${markdown}\n${end}`;
  let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n\n';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS, text);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  mkdirSync(tmpDir, { recursive: true });
  const started = performance.now();
  const startLoad = os.loadavg();
  log(`nestjs-redis-rate-limit benchmark (${QUICK ? 'quick' : 'full'} mode)`);
  const redis = await BenchRedis.start(tmpDir);
  log(`redis-server on 127.0.0.1:${redis.port}`);
  const results = {};
  const loads = [];
  const failures = [];
  try {
    const scenarios = { decisions: decisionsScenario, metrics: metricsScenario, memory: memoryScenario, flood: floodScenario, http: httpScenario };
    for (const [name, run] of Object.entries(scenarios)) {
      if (!want(name)) continue;
      const load0 = os.loadavg()[0];
      const t0 = performance.now();
      try {
        results[name] = await run(redis);
      } catch (error) {
        // One broken scenario (say, a server that no longer starts) must not lose the others.
        log(`  ! scenario ${name} failed: ${error?.stack ?? error}`);
        failures.push(`${name}: ${error?.message ?? error}`);
      }
      loads.push({ name, before: load0, after: os.loadavg()[0], seconds: (performance.now() - t0) / 1000 });
    }
  } finally {
    await closeApps().catch((error) => log(`  ! closing apps: ${error.message}`));
    await redis.stop();
  }
  const { summary, markdown } = buildReport(results, startLoad, loads, failures, (performance.now() - started) / 1000);
  log('');
  log(markdown);
  if (failures.length) process.exitCode = 1;
  if (WRITE && !ONLY && !SIDES) {
    writeResults(markdown);
    log(`\nwritten to ${RESULTS}`);
  } else if (WRITE) {
    log('\n(BENCH_ONLY/BENCH_SIDES set: partial run, RESULTS.md left as it is)');
  }
  void summary;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
