// `npm run sample`: compiles the sample app, starts Redis (unless REDIS_URL is set or
// RATE_LIMIT_STORE=memory) and three sample instances sharing it, and stops them all on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { transformFile } from '@swc/core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE_SRC = join(ROOT, 'sample', 'src');
const SAMPLE_DIST = join(ROOT, 'sample', 'dist');
const HOST = '127.0.0.1';
const PREFERRED_PORTS = [3001, 3002, 3003];
const NAMES = ['A', 'B', 'C'];

const SWC_OPTIONS = {
  sourceMaps: 'inline',
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
  },
  module: { type: 'es6' },
};

const children = [];
let stopping = false;

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

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function anyFreePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function choosePorts() {
  const ports = [];
  for (const preferred of PREFERRED_PORTS) ports.push((await portIsFree(preferred)) ? preferred : await anyFreePort());
  return ports;
}

async function waitUntil(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * Runs a child process whose output lines are prefixed with its name; its exit stops everything.
 * Children get their own process group, so Ctrl-C reaches only this script, which stops them in order.
 */
function run(name, command, args, env) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[${name}] exited (${signal ?? `code ${code}`}); stopping everything`);
    void shutdown(1);
  });
  children.push(child);
  return child;
}

function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops the instances first, then Redis (the last child started is the first stopped). */
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const child of [...children].reverse()) await stop(child);
  process.exit(code);
}

async function startRedis() {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0) {
    fail(
      'redis-server was not found on PATH. The sample starts its own Redis; install it first,\n' +
        'e.g. on Debian/Ubuntu: sudo apt-get install -y redis-server (macOS: brew install redis),\n' +
        'or point the sample at a running Redis: REDIS_URL=redis://host:6379 npm run sample\n' +
        '(or run it without Redis, each instance on its own: RATE_LIMIT_STORE=memory npm run sample)',
    );
  }
  const port = await anyFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'rl-sample-redis-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  run('redis', 'redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--dir', dir]);
  await waitUntil(() => redisAnswers(port), `redis-server on port ${port}`);
  return `redis://${HOST}:${port}`;
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) fail('The library is not built: run `npm run build` first (`npm run sample` does).');
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('exit', () => children.forEach((child) => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));

  await compileSample();
  const memory = process.env.RATE_LIMIT_STORE === 'memory';
  const redisUrl = memory ? undefined : (process.env.REDIS_URL ?? (await startRedis()));
  const ports = await choosePorts();
  const urls = ports.map((port) => `http://${HOST}:${port}`);

  for (const [i, port] of ports.entries()) {
    run(NAMES[i], process.execPath, ['--enable-source-maps', join(SAMPLE_DIST, 'main.js')], {
      PORT: String(port),
      HOST,
      INSTANCE_NAME: `instance-${NAMES[i].toLowerCase()}`,
      DASHBOARD_INSTANCES: urls.join(','),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    });
  }
  for (const url of urls) await waitUntil(() => fetch(`${url}/dashboard/instances`).then((r) => r.ok), url);
  if (stopping) return;

  console.log(`
  Rate limit sample is running (store: ${memory ? 'memory, one budget per instance' : `Redis at ${redisUrl}`})
  Dashboard:  ${urls[0]}/
  Instances:  ${urls.join('  ')}
  Try:        curl -i ${urls[1]}/public
  Ctrl-C stops everything.
`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  void shutdown(1);
});
