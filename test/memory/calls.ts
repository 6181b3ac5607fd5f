import { ALGORITHM_TABLE, type RateLimitAlgorithm } from '../../lib/algorithms/algorithm-table.js';
import type { StoreCall, StoreVerdict } from '../../lib/store/rate-limit-store.interface.js';

export type AlgorithmName = RateLimitAlgorithm;
export const ALGORITHMS: AlgorithmName[] = ALGORITHM_TABLE.map((spec) => spec.name);
/** The algorithms that limit a rate (every one but `concurrency`, whose slots wait for releases). */
export const RATE_ALGORITHMS: AlgorithmName[] = ALGORITHM_TABLE.filter((spec) => spec.kind !== 'slots').map((spec) => spec.name);
const CODES = new Map(ALGORITHM_TABLE.map((spec) => [spec.name, spec.code]));
/**
 * A simulated epoch in µs (January 2100), far ahead of real time: the scripts write absolute
 * expiries on the clock they are given, which Redis (on its own clock) then never reaches
 * during a test, so only the script's logical expiry checks decide.
 */
export const T0 = 4_102_444_800_000_000;

/** One store call; the block key follows blockForMs as the interface requires. */
export function call(algorithm: AlgorithmName, over: Partial<Omit<StoreCall, 'algorithm' | 'blockKey'>> = {}): StoreCall {
  const key = over.key ?? `t:${algorithm}`;
  const blockForMs = over.blockForMs ?? 0;
  return {
    algorithm: CODES.get(algorithm)!,
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

/** A verdict as one flat row, compact to assert: allowed, then per call allowed, remaining, resetMs, retryAfterMs (-1: never). */
export function flat(verdict: StoreVerdict): number[] {
  const row = [verdict.allowed ? 1 : 0];
  for (const r of verdict.results) row.push(r.allowed ? 1 : 0, r.remaining, r.resetMs, r.retryAfterMs ?? -1);
  return row;
}

/**
 * The charge handles of a verdict as one flat row: per call its handle's value and seq, and the
 * units a lease take took (0, 0, 0: not charged).
 */
export function handles(verdict: StoreVerdict): number[] {
  return verdict.results.flatMap((r) => (r.charge ? [r.charge.value, r.charge.seq, r.leased ?? 0] : [0, 0, 0]));
}

/** A store that decides on a caller's clock (both stores do, for tests). */
export interface ClockedStore {
  decideAt(calls: readonly StoreCall[], nowUs: number): Promise<StoreVerdict>;
}

/** Decides at `nowUs` (0: the store's own clock, and batched like any request) and returns the flat row. */
export const decideFlat = async (store: ClockedStore, calls: readonly StoreCall[], nowUs = 0) => flat(await store.decideAt(calls, nowUs));
