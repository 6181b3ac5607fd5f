import type { Algorithm, Verdict } from './algorithm.js';

interface SlidingLogVerdict extends Verdict {
  /** Index in the log of the first entry inside the window. */
  first: number;
  used: number;
}

const EMPTY: readonly number[] = [];

/**
 * Mirrors `lua/sliding-log.lua`. State: the entries [time ms, cost] in time order. The Lua
 * members' sequence numbers only keep them unique in the sorted set, and entries of equal
 * time and cost are interchangeable, so the memory log stores neither.
 */
export const slidingLog: Algorithm<SlidingLogVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit: L, windowMs: W, cost: c } = call;
    const slot = table.find(call.key, now);
    const log = slot >= 0 ? table.log(slot) : EMPTY;
    let first = 0;
    while (first < log.length && log[first] < now - W) first += 2;
    let used = 0;
    for (let i = first; i < log.length; i += 2) used += log[i + 1];
    const v = { ok: false, retry: -1, blocked: false, first, used };
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
    const slot = table.find(key, now);
    const log = slot >= 0 ? table.log(slot) : undefined;
    let used = v.used;
    let newest = log && log.length > v.first ? Math.min(log[log.length - 2], now) : 0;
    if (charge && cost > 0) {
      append(table.log(table.set(key, now, W)), v.first, now, cost);
      used += cost;
      newest = now;
    } else if (charge && log) {
      if (removeNewest(log, v.first, -cost)) used += cost;
      if (log.length === 0) table.delete(key);
    }
    if (used === 0) return [L, 0];
    return [Math.max(0, L - used), newest + W - now];
  },
};

/** ZREMRANGEBYSCORE of the entries before `first`, then ZADD of (now, cost) in time order. */
function append(log: number[], first: number, now: number, cost: number): void {
  log.splice(0, first);
  let at = log.length;
  while (at > 0 && log[at - 2] > now) at -= 2;
  log.splice(at, 0, now, cost);
}

/** A refund takes back the newest live entry of exactly that cost, if there is one. */
function removeNewest(log: number[], first: number, cost: number): boolean {
  for (let i = log.length - 2; i >= first; i -= 2) {
    if (log[i + 1] === cost) {
      log.splice(i, 2);
      return true;
    }
  }
  return false;
}
