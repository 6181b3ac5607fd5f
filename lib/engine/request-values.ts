import { HttpException, type ExecutionContext } from '@nestjs/common';
import type { Duration, SkipIf, Tracker } from '../interfaces/rate-limit-policy.interface.js';
import { parseDuration } from '../policy/parse-duration.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { checkLimitRange } from '../policy/limit-range.js';
import { blockKey, stateKey } from '../keys/policy-key.js';
import { trackerTag } from '../keys/tracker-tag.js';
import type { StoreCall } from '../store/rate-limit-store.interface.js';
import { UserFunctionError } from './user-function-error.js';


/** The policies that apply to a request, with the store call and the tracker value (for events) of each. */
export interface RequestValues {
  policies: readonly CompiledPolicy[];
  calls: StoreCall[];
  trackers: string[];
}

type Field = 'module skipIf' | 'skipIf' | 'tracker' | 'limit' | 'window' | 'cost';

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as Promise<unknown> | null)?.then === 'function';

/**
 * Resolves the request-time values of a route's policies (skipIf, tracker, limit, cost) into store
 * calls. A function that throws or returns an invalid value raises `UserFunctionError`; an
 * `HttpException` it throws passes through unchanged (say, a 401 for a missing API key).
 */
export class RequestValueResolver {
  constructor(
    private readonly keyPrefix: string,
    private readonly clientTracker: (context: ExecutionContext) => string,
  ) {}

  /**
   * The store calls of the policies that apply to this request: all but those whose `skipIf`
   * says so, none when the module's `skipIf` does.
   */
  async resolve(context: ExecutionContext, policies: readonly CompiledPolicy[], moduleTracker: Tracker, moduleSkipIf: SkipIf | undefined): Promise<RequestValues> {
    const applied: CompiledPolicy[] = [];
    const calls: StoreCall[] = [];
    const trackers: string[] = [];
    let shared: unknown;
    let sharedResolved = false;
    let policy = policies[0];
    let field: Field = 'module skipIf';
    try {
      // Synchronous functions are not awaited: every await is a tick on the hot path.
      if (moduleSkipIf) {
        let skip = moduleSkipIf(context);
        if (isPromise(skip)) skip = await skip;
        if (isTrue(skip, policy, field)) return { policies: applied, calls, trackers };
      }
      for (let i = 0; i < policies.length; i++) {
        policy = policies[i];
        field = 'skipIf';
        if (policy.skipIf) {
          let skip = policy.skipIf(context);
          if (isPromise(skip)) skip = await skip;
          if (isTrue(skip, policy, field)) continue;
        }
        field = 'tracker';
        let tracker: unknown = policy.tracker ? policy.tracker(context) : undefined;
        if (isPromise(tracker)) tracker = await tracker;
        if (tracker === undefined || tracker === null) {
          if (!sharedResolved) {
            shared = moduleTracker(context);
            if (isPromise(shared)) shared = await shared;
            if (shared === undefined || shared === null) shared = this.clientTracker(context);
            sharedResolved = true;
          }
          tracker = shared;
        }
        if (typeof tracker !== 'string') throw invalid(policy, 'tracker', tracker, 'a string');
        field = 'limit';
        let limit = typeof policy.limit === 'function' ? policy.limit(context) : policy.limit;
        if (isPromise(limit)) limit = await limit;
        field = 'window';
        let window: unknown = policy.windowOf ? policy.windowOf(context) : policy.windowMs;
        if (isPromise(window)) window = await window;
        field = 'cost';
        let cost = typeof policy.cost === 'function' ? policy.cost(context) : policy.cost;
        if (isPromise(cost)) cost = await cost;
        applied.push(policy);
        trackers.push(tracker);
        calls.push(this.call(policy, tracker, limit, cost, window));
      }
    } catch (error) {
      if (error instanceof UserFunctionError || error instanceof HttpException) throw error;
      throw new UserFunctionError(policy, `${field} threw: ${error instanceof Error ? error.message : describe(error)}`, error);
    }
    return { policies: applied.length === policies.length ? policies : applied, calls, trackers };
  }

  /** The store call of one policy for a known tracker value, limit, cost and window (validated here). */
  call(policy: CompiledPolicy, tracker: string, limit: unknown, cost: unknown, window: unknown = policy.windowMs): StoreCall {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw invalid(policy, 'limit', limit, 'an integer >= 1');
    if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 0) throw invalid(policy, 'cost', cost, 'an integer >= 0');
    const windowMs = policy.windowOf ? parseDuration(window as Duration) : policy.windowMs;
    if (windowMs === undefined) throw invalid(policy, 'window', window, "a whole number of ms >= 1 or a duration such as '15m'");
    const burst = policy.burst ?? limit;
    // A static limit and window were range-checked at start-up; only computed ones need it here.
    if (typeof policy.limit === 'function' || policy.windowOf) {
      const range = checkLimitRange(policy.spec, limit, windowMs, burst);
      if (range) throw new UserFunctionError(policy, `limit ${limit} with window ${windowMs} ms: ${range}`);
    }
    const key = stateKey(this.keyPrefix, trackerTag(tracker), policy.idOf ? policy.idOf(windowMs) : policy.id);
    return {
      key,
      blockKey: policy.blockForMs > 0 ? blockKey(key) : undefined,
      algorithm: policy.spec.code,
      limit,
      windowMs,
      burst,
      cost,
      blockForMs: policy.blockForMs,
      shadow: policy.shadow,
    };
  }
}

/** A `skipIf` answer: a boolean, or the app's error. */
function isTrue(value: unknown, policy: CompiledPolicy, field: Field): boolean {
  if (typeof value !== 'boolean') throw invalid(policy, field, value, 'a boolean');
  return value;
}

const invalid = (policy: CompiledPolicy, field: Field, value: unknown, expected: string) =>
  new UserFunctionError(policy, `${field} returned ${describe(value)}, not ${expected}`);

const describe = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' && value !== null ? 'an object' : String(value));
