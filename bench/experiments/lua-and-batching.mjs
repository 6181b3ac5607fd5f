#!/usr/bin/env node
// Experiments behind the suggestions in bench/RESULTS.md (not part of `npm run bench`):
//  1. Redis-side cost of the library's `decide` script vs a straight-line gcra script, the
//     peers' scripts and a trivial one: usec_per_call and server CPU per call, same client load.
//  2. What micro-batching would give: the concurrent decisions of one tick sent as one EVALSHA
//     of a script that decides N keys (straight-line gcra), vs one EVALSHA per decision.
// Run after `npm run build`: node bench/experiments/lua-and-batching.mjs
import { setImmediate } from 'node:timers';
import { Redis } from 'ioredis';
import { BenchRedis } from '../lib/redis.mjs';
import { closedLoop } from '../lib/load.mjs';
import { median, rotate, shuffled, table, fmt, fmtInt } from '../lib/stats.mjs';
import { libUrl } from '../lib/snapshot.mjs';
import { captureDecideArgs } from '../lib/sides.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { DECIDE_SCRIPT } = await import(libUrl('generated/decide-script.js'));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 64;
const LIMIT = 10_000;
const WINDOW = 60_000;
const KEYS = shuffled(Array.from({ length: 10_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`), 0x5eed);

// gcra, one policy, no blockFor, as a straight line: no per-call tables or closures.
const GCRA_LINE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local L, W, B, c = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local T = math.ceil(W * 1000 / L)
local tau = B * T
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now elseif tat > now + tau then tat = now + tau end
local ok, retry = 0, 0
if c > B then retry = -1
elseif tat + c * T - now <= tau then ok = 1
else retry = math.ceil((tat + c * T - tau - now) / 1000) end
if ok == 1 and c > 0 then
  tat = tat + c * T
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
end
return { ok, math.floor((tau - (tat - now)) / T), math.ceil((tat - now) / 1000), retry }`;

// The same for every key of KEYS: one call decides a batch of independent requests.
const GCRA_BATCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local L, W, B, c = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local T = math.ceil(W * 1000 / L)
local tau = B * T
local out = {}
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now elseif tat > now + tau then tat = now + tau end
  local ok, retry = 0, 0
  if c > B then retry = -1
  elseif tat + c * T - now <= tau then ok = 1
  else retry = math.ceil((tat + c * T - tau - now) / 1000) end
  if ok == 1 and c > 0 then
    tat = tat + c * T
    redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
  end
  out[#out + 1] = ok
  out[#out + 1] = retry
end
return out`;

const RLFLX = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX') \
local consumed = redis.call('incrby', KEYS[1], ARGV[1]) \
local ttl = redis.call('pttl', KEYS[1]) \
if ttl == -1 then \
  redis.call('expire', KEYS[1], ARGV[2]) \
  ttl = 1000 * ARGV[2] \
end \
return {consumed, ttl}`;

async function sides(url) {
  const r = new Redis(url);
  const load = (lua) => r.script('LOAD', lua);
  const [decide, line, batch, rlflx, trivial] = await Promise.all([DECIDE_SCRIPT, GCRA_LINE, GCRA_BATCH, RLFLX, 'return 1'].map(load));
  // The library's ARGV format is its own business: take the arguments it actually sends.
  const decideArgs = await captureDecideArgs(url, { algorithm: 'gcra', limit: LIMIT, window: WINDOW, name: 'gcra' });
  // Micro-batcher: calls made in one tick share one EVALSHA (flushed on setImmediate).
  let queue = [];
  const flush = () => {
    const q = queue;
    queue = [];
    r.evalsha(batch, q.length, ...q.map((e) => `b:{${e.key}}`), LIMIT, WINDOW, LIMIT, 1).then(
      (reply) => q.forEach((e, i) => e.resolve(reply[2 * i] === 1)),
      (error) => q.forEach((e) => e.reject(error)),
    );
  };
  const batched = (key) =>
    new Promise((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ key, resolve, reject });
    });
  return {
    client: r,
    list: [
      { id: 'decide (library script, gcra)', command: 'evalsha', call: (k) => r.evalsha(decide, 1, `d:{${k}}`, ...decideArgs).then((x) => x[0] === 1) },
      { id: 'gcra straight-line script', command: 'evalsha', call: (k) => r.evalsha(line, 1, `s:{${k}}`, LIMIT, WINDOW, LIMIT, 1).then((x) => x[0] === 1) },
      { id: 'gcra micro-batched (one EVALSHA per tick)', command: 'evalsha', call: batched },
      { id: 'rate-limiter-flexible script', command: 'evalsha', call: (k) => r.evalsha(rlflx, 1, `f:${k}`, 1, 60, LIMIT, 60).then(() => true) },
      { id: 'trivial `return 1`', command: 'evalsha', call: (k) => r.evalsha(trivial, 1, k, 1).then(() => true) },
    ],
  };
}

const redis = await BenchRedis.start(join(here, '..', '.tmp'));
const { client, list } = await sides(redis.url);
const rows = Object.fromEntries(list.map((s) => [s.id, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of rotate(list, round)) {
      await redis.flush();
      const cursor = { i: 0 };
      await closedLoop(side.call, KEYS, { concurrency: CONCURRENCY, durationMs: 1000, cursor, record: false });
      const before = await redis.commandStats();
      const cpu0 = await redis.cpuSeconds();
      const res = await closedLoop(side.call, KEYS, { concurrency: CONCURRENCY, durationMs: SECONDS * 1000, cursor });
      const cpu = ((await redis.cpuSeconds()) - cpu0) * 1e6;
      const after = await redis.commandStats();
      const calls = after.evalsha.calls - (before.evalsha?.calls ?? 0);
      const usec = after.evalsha.usec - (before.evalsha?.usec ?? 0);
      rows[side.id].push({ rate: res.opsPerSec, node: res.cpuUsPerOp, redis: cpu / res.ops, usecPerCall: usec / calls, usecPerDecision: usec / res.ops, perCall: res.ops / calls });
      console.log(`[r${round + 1}] ${side.id.padEnd(44)} ${fmtInt(res.opsPerSec).padStart(8)}/s  node ${fmt(res.cpuUsPerOp, 1)}µs  redis ${fmt(cpu / res.ops, 1)}µs  usec_per_call ${fmt(usec / calls)}`);
    }
  }
} finally {
  client.disconnect();
  await redis.stop();
}
const m = (id, f) => median(rows[id].map((r) => r[f]));
console.log(
  '\n' +
    table(
      ['side', 'decisions/s', 'Node CPU µs/decision', 'Redis CPU µs/decision', 'EVALSHA usec_per_call', 'script µs per decision', 'decisions per EVALSHA'],
      list.map((s) => [s.id, fmtInt(m(s.id, 'rate')), fmt(m(s.id, 'node'), 1), fmt(m(s.id, 'redis'), 1), fmt(m(s.id, 'usecPerCall')), fmt(m(s.id, 'usecPerDecision')), fmt(m(s.id, 'perCall'), 1)]),
    ),
);
process.exit(0);
