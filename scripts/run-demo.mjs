// `npm run demo`: compiles the sample app, starts Redis (unless REDIS_URL is set), three
// instances sharing it behind nginx on http://127.0.0.1:3000, and stops them all on Ctrl-C.
// Without nginx the page spreads its requests itself; without redis-server one instance runs
// on the memory store. DEMO_PORT moves the dashboard; DEMO_NGINX=off leaves nginx out.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';
import { SWC_TYPESCRIPT } from './swc-typescript.mjs';
import { findNginx, prepareNginx } from './run-demo-nginx.mjs';
import { anyFreePort, HOST, redisAnswers } from './loopback.mjs';
import { beforeStopping, isStopping, portPreferring, run, shutdown, stopOnSignals, waitUntil } from './run-demo-processes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE_SRC = join(ROOT, 'sample', 'src');
const SAMPLE_DIST = join(ROOT, 'sample', 'dist');
const IDS = ['a', 'b', 'c'];

const SWC_OPTIONS = { sourceMaps: 'inline', ...SWC_TYPESCRIPT };

function fail(message) {
  console.error(`\n${message}`);
  process.exit(1);
}

function* typeScriptFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typeScriptFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** Compiles sample/src to sample/dist; the sample then imports the built library by its package name. */
async function compileSample() {
  rmSync(SAMPLE_DIST, { recursive: true, force: true });
  for (const file of typeScriptFiles(SAMPLE_SRC)) {
    const out = join(SAMPLE_DIST, relative(SAMPLE_SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, (await transformFile(file, SWC_OPTIONS)).code);
  }
}

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function hasRedisServer() {
  const probe = spawnSync('redis-server', ['--version']);
  return !probe.error && probe.status === 0;
}

/** The demo's own redis-server on a free loopback port: its URL and its process (which the dashboard may pause). */
async function startRedis() {
  const port = await anyFreePort();
  const dir = tempDir('rl-demo-redis-');
  const child = run('redis', 'redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--dir', dir]);
  // A paused (SIGSTOP) Redis would not see SIGTERM: resume it before stopping everything.
  beforeStopping(() => child.exitCode === null && child.signalCode === null && child.kill('SIGCONT'));
  await waitUntil(() => redisAnswers(port), `redis-server on port ${port}`);
  return { url: `redis://${HOST}:${port}`, pid: child.pid };
}

/** Where the budgets live, and what the console and the page say about it. */
async function chooseStore() {
  if (process.env.RATE_LIMIT_STORE === 'memory') return { memory: true, why: 'RATE_LIMIT_STORE=memory' };
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, external: true };
  if (!hasRedisServer()) {
    return {
      memory: true,
      why:
        'redis-server was not found on PATH (install it: sudo apt-get install -y redis-server, or brew install redis;\n' +
        '  or point the demo at a running Redis: REDIS_URL=redis://host:6379 npm run demo)',
    };
  }
  return startRedis();
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) fail('The library is not built: run `npm run build` first (`npm run demo` does).');
  stopOnSignals();
  await compileSample();

  const store = await chooseStore();
  const requestedPort = Number(process.env.DEMO_PORT ?? 3000);
  const dashboardPort = await portPreferring(requestedPort);
  if (dashboardPort !== requestedPort) console.log(`Port ${requestedPort} is taken: the dashboard gets port ${dashboardPort}.`);
  const nginx = store.memory || process.env.DEMO_NGINX === 'off' ? undefined : findNginx();
  const count = store.memory ? 1 : IDS.length;
  const instances = [];
  for (const [i, id] of IDS.slice(0, count).entries()) {
    // Without a balancer, instance A serves the dashboard itself.
    const port = !nginx && i === 0 ? dashboardPort : await portPreferring(3001 + i);
    instances.push({ id, port, url: `http://${HOST}:${port}` });
  }
  const dashboard = `http://${HOST}:${dashboardPort}`;

  for (const { id, port } of instances) {
    run(id.toUpperCase(), process.execPath, ['--enable-source-maps', join(SAMPLE_DIST, 'main.js')], {
      cwd: ROOT,
      env: {
        PORT: String(port),
        HOST,
        INSTANCE_NAME: `instance-${id}`,
        RATE_LIMIT_STORE: store.memory ? 'memory' : 'redis',
        ...(store.url ? { REDIS_URL: store.url } : {}),
        ...(store.pid ? { DEMO_REDIS_PID: String(store.pid) } : {}),
        DEMO_BALANCER: nginx ? 'nginx' : 'page',
        DASHBOARD_INSTANCES: instances.map((instance) => (nginx ? `/instances/${instance.id}` : instance.url)).join(','),
        DEMO_RACE_TARGETS: nginx ? dashboard : instances.map((instance) => instance.url).join(','),
        ...(nginx ? { TRUST_PROXY: 'loopback' } : {}),
      },
    });
  }
  for (const { url } of instances) await waitUntil(() => fetch(`${url}/dashboard/instances`).then((r) => r.ok), url);
  if (nginx) {
    run('nginx', nginx, prepareNginx(tempDir('rl-demo-nginx-'), dashboardPort, instances));
    await waitUntil(() => fetch(`${dashboard}/dashboard/instances`).then((r) => r.ok), `nginx on ${dashboard}`);
  }
  if (isStopping()) return;

  const storeLine = store.memory
    ? `memory, one instance only (${store.why})`
    : store.external
      ? `Redis at ${store.url} (REDIS_URL; the dashboard cannot pause it)`
      : `the demo's own redis-server at ${store.url} (pid ${store.pid})`;
  const balancerLine = nginx
    ? `nginx round-robin (${nginx}) over ${instances.map((instance) => instance.url).join('  ')}`
    : `none: the page spreads its requests over ${instances.map((instance) => instance.url).join('  ')}${store.memory ? '' : ' (install nginx for a real load balancer)'}`;
  console.log(`
  Rate limit demo is running
  Store:      ${storeLine}
  Balancer:   ${balancerLine}
  Dashboard:  ${dashboard}/
  Try:        curl -i ${dashboard}/public     curl ${dashboard}/metrics     curl ${dashboard}/health
  Ctrl-C stops everything.
`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  void shutdown(1);
});
