#!/usr/bin/env node
// CPU profile of the decision hot path: runs the decision-throughput scenario for one or more
// sides (default: this library's gcra, then rate-limiter-flexible and raw EVALSHA for comparison),
// each in its own `node --cpu-prof` process, and summarises the measured window only (start-up and
// warm-up cut off) as CPU µs per decision by area and by function.
//   node bench/profile.mjs
//   PROFILE_SIDES=ours-gcra PROFILE_SECONDS=10 node bench/profile.mjs
// Needs a built dist/ (npm run build). Profiles: bench/.tmp/prof/<side>/*.cpuprofile (Chrome DevTools).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const sides = (process.env.PROFILE_SIDES ?? 'ours-gcra,rlflx,evalsha').split(',');
const seconds = process.env.PROFILE_SECONDS ?? '8';
const top = Number(process.env.PROFILE_TOP ?? 25);

function where(frame) {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '';
  const snapshot = /\/nestjs-redis-rate-limit-bench-\d+\/(dist\/.*)$/.exec(url);
  const rel = snapshot ? snapshot[1] : url.startsWith(root) ? relative(root, url) : url;
  return `${rel.replace(/^node_modules\//, '')}:${frame.lineNumber + 1}`;
}

// The library as run.mjs loads it: its private copy of dist/ (see lib/snapshot.mjs), or dist/.
const DIST = `file://${join(root, 'dist')}/`;
const isLib = (url) => url.startsWith(DIST) || /\/nestjs-redis-rate-limit-bench-\d+\/dist\//.test(url);

function area(frame) {
  const { url, functionName: name } = frame;
  if (isLib(url)) return 'nestjs-redis-rate-limit (dist/)';
  if (url.includes('/node_modules/ioredis/')) return 'ioredis (JS)';
  if (url.includes('/node_modules/rate-limiter-flexible/') || url.includes('/node_modules/@nest-lab/')) return 'peer limiter (JS)';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.includes('/node_modules/')) return 'other packages';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return '(idle)';
  if (name === '(program)') return '(program: V8/native outside JS)';
  if (name === 'writeUtf8String' || name === 'writev' || name === 'writeBuffer') return 'socket writes (native, incl. syscall)';
  if (url.startsWith('node:')) return 'node internals (JS)';
  return 'native/builtins';
}

function profileSide(side) {
  const dir = join(here, '.tmp', 'prof', side);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = {
    ...process.env,
    BENCH_ONLY: 'decisions',
    BENCH_SIDES: side,
    BENCH_ROUNDS: '1',
    BENCH_SECONDS: seconds,
    BENCH_WARMUP_SECONDS: '1',
    BENCH_WRITE: '0',
    BENCH_PROFILE_MARKS: '1',
  };
  const args = ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100', join(here, 'run.mjs')];
  console.log(`\n$ BENCH_ONLY=decisions BENCH_SIDES=${side} BENCH_SECONDS=${seconds} node --cpu-prof --cpu-prof-interval 100 bench/run.mjs`);
  const run = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (run.status !== 0) {
    console.error(run.stdout);
    throw new Error(`profiling ${side} failed`);
  }
  const line = run.stdout.split('\n').find((l) => l.includes('[decisions'));
  if (line) console.log(line.trim());
  const mark = run.stdout.split('\n').find((l) => l.startsWith('PROFILE_WINDOW'));
  const [, , t0, t1, ops] = mark.split(' ');
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')));
  return { side, file, window: [Number(t0), Number(t1)], ops: Number(ops), line };
}

function analyse({ file, window: [t0, t1], ops }) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  let t = profile.startTime;
  let busy = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i];
    const dt = timeDeltas[i + 1] ?? 0;
    if (t < t0 || t > t1) continue;
    const frame = byId.get(samples[i]).callFrame;
    const a = area(frame);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    if (a !== '(idle)') busy += dt;
    const key = `${frame.functionName || '(anonymous)'}  ${where(frame)}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const seen = new Set();
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      if (!isLib(f.url)) continue;
      const k = `${f.functionName || '(anonymous)'}  ${where(f)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
  return { areas, self, inclusive, busy, ops };
}

const perOp = (us, ops) => `${(us / ops).toFixed(2).padStart(6)} µs`;
const results = [];
for (const side of sides) results.push({ side, ...analyse(profileSide(side)) });

console.log('\nMain-thread CPU per decision in the measured window, by area (sampling profiler, 100 µs interval):');
const allAreas = [...new Set(results.flatMap((r) => [...r.areas.keys()]))].filter((a) => a !== '(idle)');
console.log(`  ${'area'.padEnd(42)}${results.map((r) => r.side.padStart(14)).join('')}`);
for (const a of allAreas.sort((x, y) => (results[0].areas.get(y) ?? 0) - (results[0].areas.get(x) ?? 0))) {
  console.log(`  ${a.padEnd(42)}${results.map((r) => perOp(r.areas.get(a) ?? 0, r.ops).padStart(14)).join('')}`);
}
console.log(`  ${'total busy'.padEnd(42)}${results.map((r) => perOp(r.busy, r.ops).padStart(14)).join('')}`);

for (const r of results) {
  const print = (title, map, n, filter = () => true) => {
    console.log(`\n[${r.side}] ${title}`);
    [...map.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .forEach(([k, us]) => console.log(`  ${perOp(us, r.ops)}  ${((100 * us) / r.busy).toFixed(1).padStart(5)}%  ${k}`));
  };
  print(`top ${top} functions by self time (per decision, % of busy)`, r.self, top, (k) => !k.startsWith('(idle)'));
  if (r.side.startsWith('ours')) {
    print('library (dist/) functions by self time', r.self, 15, (k) => / dist\//.test(k));
    print('library (dist/) functions by inclusive time', r.inclusive, 15);
  }
}
