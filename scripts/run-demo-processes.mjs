// The demo's child processes: each one's output prefixed with its name, its exit stopping
// everything, and all of them stopped by PID, last started first, on Ctrl-C.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { anyFreePort, portIsFree } from './loopback.mjs';

const children = [];
let stopping = false;
let onStop = () => undefined;

/** Something to run before the children are stopped (the demo resumes a paused Redis). */
export function beforeStopping(hook) {
  onStop = hook;
}

export function isStopping() {
  return stopping;
}

/** Children get their own process group, so Ctrl-C reaches only the demo, which stops them in order. */
export function run(name, command, args, { cwd, env = {} } = {}) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
  child.on('error', (error) => console.error(`[${name}] ${error.message}`));
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

export async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  onStop();
  for (const child of [...children].reverse()) await stop(child);
  process.exit(code);
}

export function stopOnSignals() {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('exit', () => children.forEach((child) => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
}

/** `preferred` when it is free, else any free port. */
export async function portPreferring(preferred) {
  return (await portIsFree(preferred)) ? preferred : anyFreePort();
}

export async function waitUntil(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
