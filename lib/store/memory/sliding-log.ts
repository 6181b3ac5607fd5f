import type { Algorithm, Verdict } from './algorithm.js';

/** Numbers per log entry: time (ms), sequence, cost. */
const ENTRY = 3;

interface SlidingLogVerdict extends Verdict {
  /** Index in the log of the first entry inside the window. */
  first: number;
  used: number;
  /** Entries at the end stamped after now (a clock running ahead): saved as admitted now. */
  future: number;
  /** The highest sequence number among the live entries at now (after clamping). */
  seq: number;
}

/**
 * Mirrors `lua/sliding-log.lua`. State: the entries [time ms, sequence, cost] in time order,
 * the Lua members' parts. Handle: the member's time and sequence.
 */
export const slidingLog: Algorithm<SlidingLogVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit: L, windowMs: W, cost: c } = call;
    const slot = table.find(call.key, now);
    const log = slot >= 0 ? table.log(slot) : [];
    let first = 0;
    while (first < log.length && log[first] <= now - W) first += ENTRY;
    let used = 0;
    let future = 0;
    let seq = 0;
    for (let i = first; i < log.length; i += ENTRY) {
      used += log[i + 2];
      if (log[i] > now) future++;
      if (log[i] >= now) seq = Math.max(seq, log[i + 1]);
    }
    const v = { ok: false, retry: -1, block: 0, first, used, future, seq };
    if (c > L) return v;
    if (used + c <= L) {
      v.ok = true;
      v.retry = 0;
      return v;
    }
    // The cost passes once enough of the oldest entries have left the window; a time in the
    // future (a clock that went back) counts as now, as in the Lua.
    let freed = 0;
    for (let i = first; i < log.length; i += ENTRY) {
      freed += log[i + 2];
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
    let seq = v.seq;
    if (v.future > 0) {
      // Entries from a clock running ahead are stamped now, with fresh sequence numbers.
      const clamped = log.slice();
      for (let i = v.first; i < clamped.length; i += ENTRY) {
        if (clamped[i] > now) {
          clamped[i] = now;
          clamped[i + 1] = ++seq;
        }
      }
      slot = table.set(key, now, W);
      table.setLog(slot, clamped);
      log = clamped;
    }
    let used = v.used;
    let newest = log.length > v.first ? log[log.length - ENTRY] : 0;
    let handle = 0;
    let handleSeq = 0;
    const back = call.giveBack;
    // A debt is an entry of its own, up to 2L admitted in the window.
    const debt = call.debt ? Math.min(call.debt, 2 * L - used) : 0;
    if (charge || debt > 0) {
      const units = charge ? cost : debt;
      if (charge) {
        handle = now;
        handleSeq = seq + 1;
      }
      const written = table.set(key, now, W);
      // ZREMRANGEBYSCORE of the entries before `first`, then ZADD: every live entry is at or
      // before now here, so the new one goes last. A new array each time: slice and concat
      // allocate exactly what they hold, where push leaves spare capacity in every key's log.
      table.setLog(written, table.log(written).slice(v.first).concat([now, seq + 1, units]));
      used += units;
      newest = now;
    } else if (back) {
      for (let i = v.first; i < log.length; i += ENTRY) {
        if (log[i] !== back.handle.value || log[i + 1] !== back.handle.seq) continue;
        if (log[i + 2] > back.units) {
          const reduced = log.slice();
          reduced[i + 2] -= back.units;
          table.setLog(slot, reduced);
          used -= back.units;
        } else {
          used -= log[i + 2];
          if (i === log.length - ENTRY) newest = i > v.first ? log[i - ENTRY] : 0;
          if (log.length === ENTRY) table.delete(key);
          else table.setLog(slot, log.slice(0, i).concat(log.slice(i + ENTRY)));
        }
        break;
      }
    }
    if (used === 0) return [L, 0, handle, handleSeq];
    return [Math.max(0, L - used), newest + W - now, handle, handleSeq];
  },
};
