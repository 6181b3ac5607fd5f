import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One `test/support/sample-process.ts` running in its own Node process. */
export interface SampleProcess {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL): no shutdown hook runs, as in a crash. */
  kill(): Promise<void>;
}

/**
 * Starts the sample app in a separate Node process, running the TypeScript sources through
 * test/support/ts-register.mjs (SWC, the same transform as jest): no build step, no dist/.
 */
export async function startSampleProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<SampleProcess> {
  const child = spawn(process.execPath, ['--import', './test/support/ts-register.mjs', 'test/support/sample-process.ts'], {
    cwd: ROOT,
    // The parent's NODE_OPTIONS (jest's --experimental-vm-modules) is not for the child.
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sample process did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    let line = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      line += chunk.toString();
      const match = /\{"port":(\d+)\}/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sample process exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    stop: () => stop(child),
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
