// Closed-loop load in one Node process: `concurrency` callers, each awaiting its previous call.
import { percentiles } from './stats.mjs';

const MAX_SAMPLES = 4_000_000;
const MAX_OPS = 200_000_000; // a hard bound on any loop, whatever the clock says

/**
 * Runs `call(key)` from `concurrency` callers for `durationMs`; callers walk `keys` through one
 * shared cursor (`cursor.i`), so every side sees the same key sequence.
 * Returns ops/s, latency percentiles (µs), and how many calls were admitted, denied or failed.
 */
export async function closedLoop(call, keys, { concurrency, durationMs, cursor = { i: 0 }, record = true }) {
  const samples = record ? new Float64Array(MAX_SAMPLES) : null;
  let n = 0;
  let ops = 0;
  let allowed = 0;
  let denied = 0;
  let errors = 0;
  let firstError;
  // The clock is read after every call (no timer): a call answered from memory resolves in a
  // microtask, and a loop of those would never let a timer fire.
  let now = performance.now();
  const deadline = now + durationMs;
  const worker = async () => {
    while (now < deadline && ops < MAX_OPS) {
      const key = keys[cursor.i++ % keys.length];
      const t0 = now;
      try {
        if (await call(key)) allowed++;
        else denied++;
      } catch (error) {
        errors++;
        firstError ??= error;
      }
      now = performance.now();
      if (samples !== null && n < MAX_SAMPLES) samples[n++] = now - t0;
      ops++;
    }
  };
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const [p50, p99] = samples ? percentiles(samples, n, [50, 99]).map((ms) => ms * 1000) : [NaN, NaN];
  if (errors && firstError) console.error(`  ! ${errors} of ${ops} calls failed; first: ${firstError?.message ?? firstError}`);
  // CPU of this whole process (all its threads) per call: steadier than wall time on a busy machine.
  const cpuUsPerOp = (cpu.user + cpu.system) / ops;
  // Failed calls are not decisions: they do not count towards the rate.
  return { opsPerSec: (allowed + denied) / seconds, p50, p99, ops, allowed, denied, errors, cpuUsPerOp };
}

/** Calls `call(key)` exactly once per key, `concurrency` at a time. */
export async function oncePerKey(call, keys, concurrency) {
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      await call(key).catch(() => errors++);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return errors;
}
