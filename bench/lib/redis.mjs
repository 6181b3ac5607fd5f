// The benchmark's own redis-server: one process on a loopback port, one config for every side.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { track } from './children.mjs';

/** The exact server config, printed in RESULTS.md. Persistence off so no fork/fsync adds noise. */
export const REDIS_ARGS = [
  '--bind', '127.0.0.1',
  '--save', '',
  '--appendonly', 'no',
  '--io-threads', '1',
  '--maxmemory', '0',
  '--databases', '1',
  '--loglevel', 'warning',
];

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function redisVersion() {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export class BenchRedis {
  constructor(port, dir, child) {
    this.port = port;
    this.dir = dir;
    this.child = child;
    this.url = `redis://127.0.0.1:${port}`;
    this.admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  }

  static async start(tmpDir) {
    if (!redisVersion().startsWith('Redis server')) {
      throw new Error('redis-server is not on PATH; install Redis >= 7.0 (the benchmark installs nothing itself)');
    }
    const port = await freePort();
    const dir = join(tmpDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--dir', dir, ...REDIS_ARGS];
    const child = track(spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] }));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      try {
        const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        await probe.connect();
        const pong = await probe.ping();
        probe.disconnect();
        if (pong === 'PONG') break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const server = new BenchRedis(port, dir, child);
    server.args = args;
    return server;
  }

  async flush() {
    await this.admin.flushall('SYNC');
  }

  async resetStats() {
    await this.admin.config('RESETSTAT');
  }

  /** `INFO commandstats` as { name: { calls, usec, usecPerCall } }. */
  async commandStats() {
    const text = await this.admin.info('commandstats');
    const stats = {};
    for (const line of text.split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(line.trim());
      if (m) stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]), usecPerCall: Number(m[4]) };
    }
    return stats;
  }

  /** Seconds of CPU the server has used (user + sys, all its threads). */
  async cpuSeconds() {
    const text = await this.admin.info('cpu');
    const get = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(text)?.[1] ?? NaN);
    return get('used_cpu_user') + get('used_cpu_sys');
  }

  async usedMemory() {
    const text = await this.admin.info('memory');
    return Number(/used_memory:(\d+)/.exec(text)[1]);
  }

  async stop() {
    this.admin.disconnect();
    const child = this.child;
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}

const SCRIPT_COMMANDS = ['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro'];
const ADMIN_COMMANDS = new Set(['info', 'config|resetstat', 'config', 'flushall', 'memory|usage', 'dbsize', 'randomkey', 'scan', 'script|load', 'script', 'ping']);

/**
 * What a workload cost Redis between two `commandStats()` snapshots: round trips (top-level
 * script calls), all commands (scripts count their inner commands too), and µs per script call.
 */
export function statsDelta(before, after) {
  let scriptCalls = 0;
  let scriptUsec = 0;
  let commands = 0;
  const byCommand = {};
  for (const [name, s] of Object.entries(after)) {
    const b = before[name] ?? { calls: 0, usec: 0 };
    const calls = s.calls - b.calls;
    if (calls > 0) byCommand[name] = { calls, usec: s.usec - b.usec, usecPerCall: (s.usec - b.usec) / calls };
    if (SCRIPT_COMMANDS.includes(name)) {
      scriptCalls += calls;
      scriptUsec += s.usec - b.usec;
    }
    if (!ADMIN_COMMANDS.has(name)) commands += calls;
  }
  return { scriptCalls, commands, usecPerScriptCall: scriptCalls ? scriptUsec / scriptCalls : 0, byCommand };
}
