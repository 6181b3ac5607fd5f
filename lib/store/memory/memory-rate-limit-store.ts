import { ALGORITHM_TABLE, type RateLimitAlgorithm } from '../../algorithms/algorithm-table.js';
import type { RateLimitObserver } from '../../metrics/rate-limit-observer.js';
import type { PolicyResult, RateLimitStore, StoreCall, StoreVerdict } from '../rate-limit-store.interface.js';
import type { Algorithm, Verdict } from './algorithm.js';
import { concurrency } from './concurrency.js';
import { fixedWindow } from './fixed-window.js';
import { gcra } from './gcra.js';
import { slidingLog } from './sliding-log.js';
import { slidingWindow } from './sliding-window.js';
import { StateTable } from './state-table.js';
import { tokenBucket } from './token-bucket.js';

export interface MemoryRateLimitStoreOptions {
  /** Keys tracked at most; past it the least recently written key is forgotten. Default 100,000. */
  maxKeys?: number;
}

const MODULES: Record<RateLimitAlgorithm, Algorithm> = {
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
  'sliding-log': slidingLog,
  'token-bucket': tokenBucket,
  gcra,
  concurrency,
};
/** The modules by the code a store call carries. */
const ALGORITHMS: Algorithm[] = [];
for (const spec of ALGORITHM_TABLE) ALGORITHMS[spec.code] = MODULES[spec.name];

/** Wall-clock µs like Redis TIME, but advancing with the monotonic clock once the process starts. */
const nowMicros = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);

/**
 * The single-process store: the decisions of `lua/decide.lua` and its algorithm modules,
 * number for number, on state kept in this process (test/memory/parity.property.spec.ts
 * compares the two). Like the script, it expects the keys of one decision to be distinct, as
 * policy keys are. Forgetting a key (at `maxKeys`) can only admit more, never less.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly table: StateTable;
  /** Hears the duration of each `decide` call. */
  observer: Pick<RateLimitObserver, 'storeCall'> | undefined;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    const maxKeys = options.maxKeys ?? 100_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be an integer >= 1, got ${maxKeys}`);
    this.table = new StateTable(maxKeys);
  }

  /** Keys held, expired ones not yet swept included. */
  get size(): number {
    return this.table.size;
  }

  isReady(): boolean {
    return true;
  }

  decide(calls: readonly StoreCall[]): Promise<StoreVerdict> {
    return this.decideAt(calls, 0);
  }

  /**
   * `decide` on a clock of the caller's (µs; 0: this process's clock), for tests.
   * Async only for the interface: the body never awaits, so a decision is atomic.
   */
  async decideAt(calls: readonly StoreCall[], nowUs: number): Promise<StoreVerdict> {
    const observer = this.observer;
    const startedAt = observer ? performance.now() : 0;
    const now = nowUs || nowMicros();
    const nowMs = Math.floor(now / 1000);
    const table = this.table;
    table.sweep(nowMs);
    const verdicts: Verdict[] = [];
    let allAllowed = true;
    for (const call of calls) {
      const v = ALGORITHMS[call.algorithm].check(call, table, now, nowMs);
      const blockKey = blockKeyOf(call);
      if (call.giveBack || call.renew || call.debt) {
        // A give-back returns what an earlier charge took, a renewal extends it, a debt adds to
        // it: they always apply.
        v.ok = true;
        v.retry = 0;
      } else if (blockKey !== undefined && call.cost > 0) {
        const slot = table.find(blockKey, nowMs);
        const until = slot >= 0 ? table.value(slot, 0) : 0;
        if (until > nowMs) {
          v.ok = false;
          v.block = until - nowMs;
          if (v.retry >= 0) v.retry = Math.max(v.retry, v.block);
        }
      }
      if (!v.ok && !call.shadow) allAllowed = false;
      verdicts.push(v);
    }

    const results: PolicyResult[] = new Array(calls.length);
    calls.forEach((call, i) => {
      const v = verdicts[i];
      const charge = allAllowed && v.ok && call.cost > 0;
      const finished = ALGORITHMS[call.algorithm].finish(call, v, charge, table, now, nowMs);
      const [, , handle, seq] = finished;
      let [remaining, resetMs] = finished;
      const blockKey = blockKeyOf(call);
      // A denial of a real cost that vetoed the request starts a block, unless already blocked or hopeless.
      if (!allAllowed && !v.ok && !v.block && !call.shadow && blockKey !== undefined && call.cost > 0 && v.retry >= 0) {
        table.set(blockKey, nowMs, call.blockForMs, nowMs + call.blockForMs);
        v.block = call.blockForMs;
        v.retry = Math.max(v.retry, call.blockForMs);
      }
      if (v.block) {
        // Nothing passes while blocked.
        remaining = 0;
        resetMs = Math.max(resetMs, v.block);
      }
      // As the script replies, a lease take's seq is the units it took.
      results[i] = {
        allowed: v.ok,
        remaining,
        resetMs,
        retryAfterMs: v.retry === -1 ? null : v.retry,
        charge: handle === 0 ? undefined : { value: handle, seq: call.lease ? 0 : seq },
      };
      if (handle !== 0 && call.lease) results[i].leased = seq;
    });
    observer?.storeCall((performance.now() - startedAt) / 1000);
    return { allowed: allAllowed, results };
  }

  async reset(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.table.delete(key);
  }
}

/** As in the Lua, a policy has a block key exactly when its blockFor is positive. */
const blockKeyOf = (call: StoreCall) => (call.blockForMs > 0 ? call.blockKey : undefined);
