import type { ExecutionContext } from '@nestjs/common';
import type { AlgorithmSpec, RateLimitAlgorithm } from '../algorithms/algorithm-table.js';
import type { ContextValue, FailMode, RateLimitPolicy, RefundMode, Settle } from '../interfaces/rate-limit-policy.interface.js';

/** A validated policy bound to its budget: everything the hot path needs, computed once. */
export interface CompiledPolicy {
  readonly name: string;
  readonly algorithm: RateLimitAlgorithm;
  readonly spec: AlgorithmSpec;
  /** The window in ms; 0 when `window` is a function of the request (`windowOf`). */
  readonly windowMs: number;
  readonly windowOf: ((context: ExecutionContext) => unknown) | undefined;
  /** The `id` part of this policy's keys under a window resolved by `windowOf`. */
  readonly idOf: ((windowMs: number) => string) | undefined;
  readonly limit: ContextValue<number>;
  readonly cost: ContextValue<number>;
  /** `undefined`: the resolved limit. */
  readonly burst: number | undefined;
  readonly blockForMs: number;
  readonly failMode: FailMode;
  readonly shadow: boolean;
  readonly tracker: RateLimitPolicy['tracker'];
  readonly skipIf: RateLimitPolicy['skipIf'];
  readonly bucket: string | undefined;
  readonly refund: RefundMode | undefined;
  readonly settle: Settle | undefined;
  /** Units this instance takes from the store in one call and spends locally; 0: none (DESIGN.md, Leases). */
  readonly lease: number;
  /** Whether an admitted request has work left after its response (`settle`, `refund`, a concurrency slot). */
  readonly afterWork: boolean;
  /** The `id` part of this policy's keys. */
  readonly id: string;
  /** Where it was declared, for messages: `CatsController.find`. */
  readonly where: string;
}
