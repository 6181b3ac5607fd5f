// HTTP servers in child processes, driven by autocannon from the parent.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { track } from './children.mjs';
import { fileURLToPath } from 'node:url';

let CLOCK_TICKS = 100;
try {
  CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}

const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));

export class HttpServer {
  constructor(adapter, stack, child, port) {
    this.adapter = adapter;
    this.stack = stack;
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** `env`: more environment for the child (e.g. BENCH_LIB_DIR, to measure another build); `nodeArgs`: Node's own flags (e.g. --cpu-prof). */
  static async start(adapter, stack, redisUrl, env = {}, nodeArgs = []) {
    const child = track(
      spawn(process.execPath, [...nodeArgs, SERVER], {
        env: { ...process.env, BENCH_ADAPTER: adapter, BENCH_STACK: stack, BENCH_REDIS_URL: redisUrl, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const port = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${adapter}/${stack} server did not start within 30 s`)), 30_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /READY (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${adapter}/${stack} server exited with ${code}`));
      });
    });
    return new HttpServer(adapter, stack, child, port);
  }

  /** CPU seconds (user + sys, all threads) of the server process, from /proc (Linux). */
  cpuSeconds() {
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return NaN;
    }
  }

  async stop() {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * One autocannon run. `keys`: a client id per request, cycling (10k distinct clients), or
 * `fixedClient`: one client id for every request (the flood).
 */
export async function cannon(url, { path, seconds, connections, keys, fixedClient }) {
  let next = 0;
  const request = keys
    ? {
        method: 'GET',
        path,
        setupRequest: (req) => {
          req.headers['x-client-id'] = keys[next++ % keys.length];
          return req;
        },
      }
    : { method: 'GET', path, headers: { 'x-client-id': fixedClient } };
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ url, connections, pipelining: 1, duration: seconds, requests: [request] });
  const duration = result.duration || seconds;
  const codes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
  return {
    rps: result.requests.total / duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    count429: codes['429'] ?? 0,
    errors: result.errors + result.timeouts,
    codes,
  };
}
