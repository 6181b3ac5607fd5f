import type { Algorithm, Verdict } from './algorithm.js';

interface SlidingLogVerdict extends Verdict {
  /** Index in the log of the first entry inside the window. */
  first: number;
  used: number;
  /** Entries at the end stamped after now (a clock running ahead): saved as admitted now. */
  future: number;
}

/**
 * Mirrors `lua/sliding-log.lua`. State: the entries [time ms, cost] in time order. The Lua
 * members' sequence numbers only keep them unique in the sorted set, and entries of equal
 * time and cost are interchangeable, so the memory log stores neither.
 */
export const slidingLog: Algorithm<SlidingLogVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit: L, windowMs: W, cost: c } = call;
    const slot = table.find(call.key, now);
    const log = slot >= 0 ? table.log(slot) : [];
    let first = 0;
    while (first < log.length && log[first] <= now - W) first += 2;
    let used = 0;
    let future = 0;
    for (let i = first; i < log.length; i += 2) {
      used += log[i + 1];
      if (log[i] > now) future++;
    }
    const v = { ok: false, retry: -1, block: 0, first, used, future };
    if (c > L) return v;
    if (used + c <= L) {
      v.ok = true;
      v.retry = 0;
      return v;
    }
    // The cost passes once enough of the oldest entries have left the window; a time in the
    // future (a clock that went back) counts as now, as in the Lua.
    let freed = 0;
    for (let i = first; i < log.length; i += 2) {
      freed += log[i + 1];
      if (used - freed + c <= L) {
        v.retry = Math.min(log[i], now) + W - now;
        break;
      }
    }
    return v;
  },

  finish(call, v, charge, table, _nowUs, now) {
    const { key, cost, limit: L, windowMs: W } = call;
    // Looked up again: a key created by another policy of this decision may have evicted it.
    let slot = table.find(key, now);
    let log = slot >= 0 ? table.log(slot) : [];
    if (v.future > 0) {
      const clamped = log.map((value, i) => (i % 2 === 0 ? Math.min(value, now) : value));
      slot = table.set(key, now, W);
      table.setLog(slot, clamped);
      log = clamped;
    }
    let used = v.used;
    let newest = log.length > v.first ? Math.min(log[log.length - 2], now) : 0;
    if (charge && cost > 0) {
      const written = table.set(key, now, W);
      table.setLog(written, added(table.log(written), v.first, now, cost));
      used += cost;
      newest = now;
    } else if (charge) {
      const i = newestOfCost(log, v.first, -cost);
      if (i >= 0) {
        used += cost;
        if (log.length === 2) table.delete(key);
        else table.setLog(slot, log.slice(0, i).concat(log.slice(i + 2)));
      }
    }
    if (used === 0) return [L, 0];
    return [Math.max(0, L - used), newest + W - now];
  },
};

/**
 * ZREMRANGEBYSCORE of the entries before `first`, then ZADD of (now, cost) in time order.
 * A new array each time: slice and concat allocate exactly what they hold, where push leaves
 * spare capacity in every key's log.
 */
function added(log: readonly number[], first: number, now: number, cost: number): number[] {
  let at = log.length;
  while (at > first && log[at - 2] > now) at -= 2;
  return log.slice(first, at).concat([now, cost], log.slice(at));
}

/** A refund takes back the newest live entry of exactly that cost: its index, or -1. */
function newestOfCost(log: readonly number[], first: number, cost: number): number {
  for (let i = log.length - 2; i >= first; i -= 2) if (log[i + 1] === cost) return i;
  return -1;
}
