#!/usr/bin/env node
// A/B of the `decide` script alone: Redis time per decision (`INFO commandstats`, EVALSHA usec
// divided by the decisions made) of the script as built at a git ref (A) against the one this
// checkout builds (B), on one redis-server the run starts itself. No library code runs, so the
// numbers are the script's own cost. For each algorithm and batch size, every round flushes
// Redis, creates every key of both sides (each side has its own 10,000 keys), then measures A and
// B in alternating chunks of a few calls (A B B A A B...), so that both see the same machine
// load. A side's time in a round is the median over its chunks: on a busy machine a few chunks
// in which redis-server lost its CPU would otherwise decide the mean. The table gives the median
// over rounds of each side's time and of the per-round B/A.
//   node bench/lua-ab.mjs [ref-A, default main] [ref-B, default this checkout]
// Env: AB_ROUNDS (7), AB_DECISIONS per side and round (20000), AB_CHUNK_CALLS (25),
// AB_BATCHES (1,16: requests per call), AB_ALGORITHMS (all), AB_KEYS per side (10000; fewer keys give each
// sliding-log key more entries in its window: decisions per round / keys), AB_WINDOW_MS (60000;
// shorter, entries leave the window while a round runs).
// The arguments follow lua/decide.lua's header (one policy per request, every request admitted).
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { composeDecideScript } from '../scripts/lua-compose.mjs';
import { BenchRedis, statsDelta } from './lib/redis.mjs';
import { fmt, median, shuffled } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const [refA = 'main', refB] = process.argv.slice(2);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 7);
const DECISIONS = Number(process.env.AB_DECISIONS ?? 20_000);
const CHUNK_CALLS = Number(process.env.AB_CHUNK_CALLS ?? 25);
const BATCHES = (process.env.AB_BATCHES ?? '1,16').split(',').map(Number);
const ONLY = process.env.AB_ALGORITHMS?.split(',');
const KEYS = Number(process.env.AB_KEYS ?? 10_000);
/** Calls in flight: keeps Redis busy; commandstats time is the execution time, whatever the load. */
const IN_FLIGHT = 8;

/** The decide script as the build of `ref` composes it (its own lua/ and scripts/). */
function scriptAt(ref) {
  if (ref === undefined) return composeDecideScript(root).source;
  const dir = mkdtempSync(join(tmpdir(), 'rl-lua-ab-'));
  try {
    // The build reads the algorithm table (lib/) and strips its types with this checkout's typescript.
    execSync(`git archive ${JSON.stringify(ref)} lua scripts lib/algorithms/algorithm-table.ts | tar -x -C ${JSON.stringify(dir)}`, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(dir, 'scripts', 'build-lua.mjs')], { stdio: 'ignore' });
    const generated = readFileSync(join(dir, 'lib', 'generated', 'decide-script.ts'), 'utf8');
    return JSON.parse(/DECIDE_SCRIPT = (".*");$/m.exec(generated)[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ALGORITHMS = [
  ['fixed-window', 1, 'f'],
  ['sliding-window', 2, 'w'],
  ['sliding-log', 3, 'l'],
  ['token-bucket', 4, 't'],
  ['gcra', 5, 'g'],
];
// The benchmark's throughput budget (bench/lib/limits.mjs): every decision is admitted.
const WINDOW_MS = Number(process.env.AB_WINDOW_MS ?? 60_000);
const SPEC = (code) => `${code}:10000:${WINDOW_MS}:10000:0:0`;
const TRACKERS = shuffled(
  Array.from({ length: KEYS }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
  0x5eed,
);

/**
 * About `count` decisions (whole calls) of `side`'s script on its own keys, `batch` requests a
 * call, walking its keys on from where it stopped; returns how many.
 */
async function run(redis, side, [, code, letter], batch, count) {
  const { cursor } = side;
  const oneCall = () => {
    const keys = [];
    const args = [0];
    for (let i = 0; i < batch; i++) {
      keys.push(`rl:{${side.name}${TRACKERS[cursor.at++ % KEYS]}}:1${letter}AbCdEfGh`);
      args.push(1, SPEC(code), 1);
    }
    return redis.evalsha(side.sha, keys.length, ...keys, ...args);
  };
  const total = Math.ceil(count / batch);
  let calls = total;
  const worker = async () => {
    while (calls-- > 0) await oneCall();
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return total * batch;
}

async function main() {
  const scripts = { A: scriptAt(refA), B: scriptAt(refB) };
  mkdirSync(join(here, '.tmp'), { recursive: true });
  const server = await BenchRedis.start(join(here, '.tmp'));
  const redis = new Redis(server.url);
  const sides = [];
  for (const name of ['A', 'B']) sides.push({ name, sha: await redis.script('LOAD', scripts[name]), cursor: { at: 0 } });
  console.log(`A: ${refA} (${scripts.A.length} bytes); B: ${refB ?? 'this checkout'} (${scripts.B.length} bytes); ${ROUNDS} rounds × ${DECISIONS} decisions a side, in chunks of ${CHUNK_CALLS} calls`);
  const rows = [];
  try {
    for (const algorithm of ALGORITHMS.filter(([name]) => ONLY === undefined || ONLY.includes(name))) {
      for (const batch of BATCHES) {
        const usPerDecision = { A: [], B: [] };
        for (let r = 0; r < ROUNDS; r++) {
          await server.flush();
          for (const side of sides) await run(redis, side, algorithm, batch, KEYS);
          const chunks = { A: [], B: [] };
          for (let k = 0; k < DECISIONS / (CHUNK_CALLS * batch); k++) {
            for (const side of k % 2 === r % 2 ? sides : [...sides].reverse()) {
              const before = await server.commandStats();
              const decisions = await run(redis, side, algorithm, batch, CHUNK_CALLS * batch);
              chunks[side.name].push(statsDelta(before, await server.commandStats()).byCommand.evalsha.usec / decisions);
            }
          }
          for (const side of sides) usPerDecision[side.name].push(median(chunks[side.name]));
        }
        const ratio = median(usPerDecision.B.map((b, r) => b / usPerDecision.A[r]));
        const row = [algorithm[0], batch, median(usPerDecision.A), median(usPerDecision.B), ratio];
        rows.push(row);
        console.log(`${row[0].padEnd(15)} batch ${String(batch).padStart(2)}  A ${fmt(row[2])} µs  B ${fmt(row[3])} µs  B/A ${fmt(ratio, 3)}`);
      }
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  console.log('\n| algorithm | requests per call | A µs/decision | B µs/decision | B/A (median of rounds) |\n|---|---|---|---|---|');
  for (const [name, batch, a, b, ratio] of rows) console.log(`| ${name} | ${batch} | ${fmt(a)} | ${fmt(b)} | ${fmt(ratio, 3)} |`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
