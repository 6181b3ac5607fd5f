// `npm run test:starters`: packs the library as npm would publish it, installs the tarball into
// the starter apps under test/starters/ (each from its own lockfile), starts a redis-server of its
// own on a free port and runs each app's own type check and test commands against it:
//   nest11: a NestJS 11 app as `nest new` 11 makes it (CommonJS, Jest + ts-jest), also built and
//           tested on `"module": "commonjs"`, plus both builds of the library in one process;
//   nest12: a NestJS 12 app as `nest new` 12 makes it (ESM, Vitest).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anyFreePort, HOST, redisAnswers } from './loopback.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM_QUIET = ['--no-audit', '--no-fund'];

const STARTERS = [
  {
    name: 'nest11',
    commands: ['typecheck', 'test', 'test:e2e', 'build:commonjs', 'test:e2e:commonjs', 'test:dual-package'],
  },
  { name: 'nest12', commands: ['typecheck', 'test', 'test:e2e'] },
];

const started = performance.now();
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const running = new Set();
const cleanups = [];

function stopAll() {
  // Each child leads its own process group: this stops npm and what it started, nothing else.
  for (const child of running) if (child.pid) process.kill(-child.pid, 'SIGKILL');
  running.clear();
  while (cleanups.length) cleanups.pop()();
}

function fail(message) {
  console.error(`\ntest:starters: ${message}`);
  stopAll();
  process.exit(1);
}

/**
 * Runs a command; resolves with its stdout once it succeeds, ends the whole run if it fails.
 * `quiet` keeps the output and shows it only on failure (for steps that run side by side).
 */
function run(label, command, args, { cwd = ROOT, env = {}, quiet = false, capture = false } = {}) {
  const since = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', quiet || capture ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
      detached: true,
    });
    running.add(child);
    let stdout = '';
    let output = '';
    child.stdout?.on('data', (data) => {
      stdout += data;
      output += data;
    });
    child.stderr?.on('data', (data) => (output += data));
    child.once('error', (error) => fail(`${label}: ${command} could not start (${error.message})`));
    child.once('close', (code, signal) => {
      running.delete(child);
      if (code !== 0) {
        if (quiet) process.stderr.write(output);
        fail(`${label}: \`${command} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})`);
      }
      console.log(`  ok  ${label} (${seconds(since)})`);
      resolve(stdout);
    });
  });
}

async function startRedis() {
  const port = await anyFreePort();
  const dir = mkdtempSync(join(tmpdir(), 'rl-starters-redis-'));
  const args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  child.once('error', (error) => fail(`redis-server could not start (${error.message}): sudo apt-get install -y redis-server`));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 10_000;
  while (!(await redisAnswers(port))) {
    if (Date.now() > deadline) fail(`redis-server did not answer on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return port;
}

/** Builds, then packs: the tarball exactly as `npm publish` would upload it. */
async function pack() {
  await run('library build', 'npm', ['run', 'build'], { quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'rl-starters-pack-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  // The build just ran; `prepack` would run it again and mix its output into the JSON.
  const stdout = await run('library pack', 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { capture: true });
  return join(dir, JSON.parse(stdout)[0].filename);
}

async function main() {
  process.on('SIGINT', () => fail('interrupted'));
  const dirOf = (starter) => join(ROOT, 'test', 'starters', starter.name);
  console.log(`test:starters: building and packing the library; npm ci in ${STARTERS.map((s) => s.name).join(', ')}`);
  // The installs wait on the network and the disk, the build on the CPU: side by side.
  const [tarball] = await Promise.all([
    pack(),
    ...STARTERS.map((starter) => run(`${starter.name} npm ci`, 'npm', ['ci', ...NPM_QUIET], { cwd: dirOf(starter), quiet: true })),
  ]);
  const [port] = await Promise.all([
    startRedis(),
    // --no-save: the starter's package.json and lockfile stay as committed.
    ...STARTERS.map((starter) =>
      run(`${starter.name} install tarball`, 'npm', ['install', '--no-save', '--prefer-offline', ...NPM_QUIET, tarball], { cwd: dirOf(starter), quiet: true }),
    ),
  ]);
  // One Redis database per command: each app run starts from an empty budget.
  let db = 0;
  // The starters side by side too, each its commands in order; a command's output is shown if it fails.
  await Promise.all(
    STARTERS.map(async (starter) => {
      for (const command of starter.commands) {
        const env = { REDIS_URL: `redis://${HOST}:${port}/${db++}` };
        await run(`${starter.name} npm run ${command}`, 'npm', ['run', '--silent', command], { cwd: dirOf(starter), env, quiet: true });
      }
    }),
  );
  stopAll();
  console.log(`test:starters passed in ${seconds(started)}`);
}

main().catch((error) => fail(error instanceof Error ? error.stack : String(error)));
