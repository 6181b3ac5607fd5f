import { ALGORITHM_CODES, type StoreCall } from '../../lib/store/rate-limit-store.interface.js';

export type AlgorithmName = keyof typeof ALGORITHM_CODES;
export const ALGORITHMS = Object.keys(ALGORITHM_CODES) as AlgorithmName[];
/** A realistic epoch in µs (November 2023). */
export const T0 = 1_700_000_000_000_000;

/** One store call; the block key follows blockForMs as the interface requires. */
export function call(algorithm: AlgorithmName, over: Partial<Omit<StoreCall, 'algorithm' | 'blockKey'>> = {}): StoreCall {
  const key = over.key ?? `t:${algorithm}`;
  const blockForMs = over.blockForMs ?? 0;
  return {
    algorithm: ALGORITHM_CODES[algorithm],
    limit: 5,
    windowMs: 10_000,
    burst: over.burst ?? over.limit ?? 5,
    cost: 1,
    shadow: false,
    ...over,
    key,
    blockForMs,
    blockKey: blockForMs > 0 ? `${key}:b` : undefined,
  };
}
