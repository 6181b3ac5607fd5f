import type { AlgorithmSpec } from '../algorithms/algorithm-table.js';

// Redis Lua numbers are doubles: every intermediate product must stay an exact integer.
const MAX_BUCKET_SPAN_US = 1e15;

/** Why a limit cannot be computed exactly, or `undefined` when it can. */
export function checkLimitRange(spec: AlgorithmSpec, limit: number, windowMs: number, burst: number): string | undefined {
  if (!Number.isSafeInteger(limit * windowMs)) return `times window (ms) must stay below 2^53; use a coarser unit of cost`;
  if (spec.kind === 'bucket' && burst * Math.ceil((windowMs * 1000) / limit) > MAX_BUCKET_SPAN_US) {
    return 'and burst give a bucket that takes more than 30 years to refill';
  }
  return undefined;
}
