// Bytes per key held by the memory store, per algorithm: 100k distinct clients, one request
// each (sliding-log also with 10 requests each). Counts the JS heap and the typed arrays'
// off-heap buffers, the keys' own strings (`rl:{10.1.2.3}:1g1a2B3c4D`, 23-28 characters)
// included. Each case runs in a fresh process so that no other garbage is counted; the median
// of three runs is shown (the heap grows in pages, so single runs vary by some 20 bytes/key).
//   npm run build && node bench/memory-store-bytes.mjs [path/to/dist]
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const KEYS = 100_000;
const T0 = 1_700_000_000_000_000;
const CASES = [
  ['fixed-window', 1, 1],
  ['sliding-window', 2, 1],
  ['sliding-log', 3, 1],
  ['sliding-log, 10 entries', 3, 10],
  ['token-bucket', 4, 1],
  ['gcra', 5, 1],
];
const [distArg = fileURLToPath(new URL('../dist', import.meta.url)), caseArg] = process.argv.slice(2);

if (caseArg === undefined) {
  for (let i = 0; i < CASES.length; i++) {
    const args = ['--expose-gc', fileURLToPath(import.meta.url), distArg, String(i)];
    const runs = [0, 1, 2].map(() => Number(execFileSync(process.execPath, args, { encoding: 'utf8' })));
    const bytes = runs.sort((a, b) => a - b)[1];
    console.log(`${CASES[i][0].padEnd(24)} ${bytes.toFixed(0).padStart(4)} bytes/key`);
  }
} else {
  const { MemoryRateLimitStore } = await import(pathToFileURL(`${distArg}/store/memory/memory-rate-limit-store.js`).href);
  const [, algorithm, requests] = CASES[Number(caseArg)];
  const used = async () => {
    // Lets freed array buffers be released before reading.
    await new Promise((resolve) => setTimeout(resolve, 50));
    globalThis.gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const before = await used();
  const store = new MemoryRateLimitStore({ maxKeys: KEYS });
  for (let i = 0; i < KEYS; i++) {
    const key = `rl:{10.${i >> 16}.${(i >> 8) & 255}.${i & 255}}:1${'fwltg'[algorithm - 1]}1a2B3c4D`;
    const call = { key, blockKey: undefined, algorithm, limit: 100, windowMs: 60_000, burst: 100, cost: 1, blockForMs: 0, shadow: false };
    // All at one instant, so that nothing expires.
    for (let r = 0; r < requests; r++) await store.decide([call], T0);
  }
  const after = await used();
  if (store.size !== KEYS) throw new Error(`expected ${KEYS} keys, got ${store.size}`);
  process.stdout.write(String((after - before) / KEYS));
}
