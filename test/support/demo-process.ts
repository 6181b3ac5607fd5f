import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npm run demo` (scripts/run-demo.mjs) running in its own process, as a user starts it. */
export interface DemoProcess {
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C: resolves once the demo has exited. */
  interrupt(): Promise<number | null>;
}

/**
 * The demo runs the built library (dist/), as `npm run demo` does after `npm run build`; it is
 * built here when missing (`.ci/run` builds before the tests).
 */
export async function startDemo(env: Record<string, string> = {}, timeoutMs = 90_000): Promise<DemoProcess> {
  if (!existsSync(`${ROOT}dist/index.js`)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const port = await freePort();
  const child = spawn(process.execPath, ['scripts/run-demo.mjs'], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', DEMO_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`the demo did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.stdout!.on('data', () => {
      const match = /Dashboard:\s+(http:\/\/\S+?)\/?\s/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async interrupt() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
