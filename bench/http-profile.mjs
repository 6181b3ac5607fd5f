#!/usr/bin/env node
// CPU profile of the HTTP hello-world server (bench/lib/http-server.mjs) under autocannon: the
// server runs under `node --cpu-prof`, and only the measured window (after start-up and warm-up)
// is summarised, as server CPU µs per request by function (self and inclusive time).
//   PROFILE_ADAPTER=fastify PROFILE_STACK=ours PROFILE_PATH=/hello node bench/http-profile.mjs
//   PROFILE_SECONDS (default 8), PROFILE_TOP (default 30). Needs a built dist/ (npm run build).
// Profiles: bench/.tmp/http-prof/*.cpuprofile (Chrome DevTools).
import { libInfo } from './lib/snapshot.mjs'; // first: snapshots dist/ before the library is imported
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cannon, HttpServer } from './lib/http.mjs';
import { BenchRedis } from './lib/redis.mjs';
import { shuffled } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const adapter = process.env.PROFILE_ADAPTER ?? 'fastify';
const stack = process.env.PROFILE_STACK ?? 'ours';
const path = process.env.PROFILE_PATH ?? '/hello';
const seconds = Number(process.env.PROFILE_SECONDS ?? 8);
const top = Number(process.env.PROFILE_TOP ?? 30);
const dir = join(here, '.tmp', 'http-prof');
const keys = shuffled(Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`), 0x5eed);

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
console.log(`${libInfo()}\n${adapter}/${stack} GET ${path}, ${seconds} s`);
const redis = await BenchRedis.start(join(here, '.tmp'));
let window;
let total;
try {
  const server = await HttpServer.start(adapter, stack, redis.url, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100']);
  await cannon(server.url, { path, seconds: 2, connections: 64, keys });
  // The profile's timestamps are the monotonic clock in µs, as process.hrtime here.
  const t0 = Number(process.hrtime.bigint() / 1000n);
  const res = await cannon(server.url, { path, seconds, connections: 64, keys });
  window = [t0, Number(process.hrtime.bigint() / 1000n)];
  total = res.total;
  console.log(`${Math.round(res.rps)} req/s, p99 ${res.p99} ms, non-2xx ${res.non2xx}`);
  await server.stop();
} finally {
  await redis.stop();
}

const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')));
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (f) => `${f.functionName || '(anonymous)'}  ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
const self = new Map();
const inclusive = new Map();
let busy = 0;
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (t < window[0] || t > window[1]) continue;
  const frame = byId.get(profile.samples[i]).callFrame;
  if (frame.functionName === '(idle)') continue;
  busy += dt;
  self.set(name(frame), (self.get(name(frame)) ?? 0) + dt);
  const seen = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const k = name(byId.get(id).callFrame);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
  }
}
const perReq = (us) => `${(us / total).toFixed(2).padStart(7)} µs`;
const print = (title, map, filter = () => true) => {
  console.log(`\n${title}`);
  [...map.entries()]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => console.log(`  ${perReq(us)}  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`));
};
console.log(`\nbusy main-thread CPU: ${perReq(busy)} per request`);
print('by self time', self);
print('library (dist/) by inclusive time', inclusive, (k) => k.includes(' dist/'));
