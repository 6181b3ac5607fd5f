import type { CompiledPolicy } from '../policy/compiled-policy.js';

/**
 * A policy's or the module's function (`tracker`, `limit`, `cost`) threw or gave a value that
 * is not one. The app's fault, not the store's: it never falls into `failMode` and never admits.
 */
export class UserFunctionError extends Error {
  constructor(
    readonly policy: CompiledPolicy,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`policy "${policy.name}" on ${policy.where}: ${message}`);
  }
}
