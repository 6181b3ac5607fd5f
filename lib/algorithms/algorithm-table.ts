/**
 * Every algorithm's identity, in one place. Policy compilation, keys, the memory store and the
 * Lua build (scripts/build-lua.mjs, which reads this file) all take it from here: adding an
 * algorithm means a row here, `lua/<name>.lua`, `lib/store/memory/<name>.ts` and the parity test.
 * This file imports nothing, so the build can load it on its own.
 *
 * - `code`: the number the Lua script dispatches on (its `if algorithm == code` branch).
 * - `letter`: the first character of a key's id, so a policy that changes algorithm never meets
 *   its old state.
 * - `kind`: `window` algorithms hold `limit` units per window; `bucket` algorithms refill `limit`
 *   per window up to `burst`; `slots` hold at most `limit` requests in flight, each slot expiring
 *   after `window` unless released or renewed. A budget's capacity is `limit` for windows and
 *   slots, `burst` for buckets.
 */
export const ALGORITHM_TABLE = [
  { name: 'fixed-window', code: 1, letter: 'f', kind: 'window' },
  { name: 'sliding-window', code: 2, letter: 'w', kind: 'window' },
  { name: 'sliding-log', code: 3, letter: 'l', kind: 'window' },
  { name: 'token-bucket', code: 4, letter: 't', kind: 'bucket' },
  { name: 'gcra', code: 5, letter: 'g', kind: 'bucket' },
  { name: 'concurrency', code: 6, letter: 'c', kind: 'slots' },
] as const;

export type AlgorithmSpec = (typeof ALGORITHM_TABLE)[number];
export type RateLimitAlgorithm = AlgorithmSpec['name'];
export type AlgorithmCode = AlgorithmSpec['code'];

const BY_NAME = new Map<string, AlgorithmSpec>(ALGORITHM_TABLE.map((spec) => [spec.name, spec]));

/** The row of an algorithm name, or `undefined` for a name that is not one. */
export const algorithmNamed = (name: unknown): AlgorithmSpec | undefined => (typeof name === 'string' ? BY_NAME.get(name) : undefined);

