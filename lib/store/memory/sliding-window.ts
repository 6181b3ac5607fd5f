import type { Algorithm, Verdict } from './algorithm.js';

interface SlidingWindowVerdict extends Verdict {
  index: number;
  /** Ms elapsed in the current window. */
  elapsed: number;
  current: number;
  previous: number;
  /** The stored window was ahead of ours (a clock running ahead): save it as the current one. */
  dirty: boolean;
}

/** Mirrors `lua/sliding-window.lua`. State: window index, current count, previous count. Handle: the window index. */
export const slidingWindow: Algorithm<SlidingWindowVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit: L, windowMs: W, cost: c } = call;
    const index = Math.floor(now / W);
    const e = now - index * W;
    let cur = 0;
    let prev = 0;
    let dirty = false;
    const slot = table.find(call.key, now);
    if (slot >= 0) {
      const stored = table.value(slot, 0);
      if (stored >= index) {
        cur = table.value(slot, 1);
        prev = table.value(slot, 2);
        dirty = stored > index;
      } else if (stored === index - 1) {
        prev = table.value(slot, 1);
      }
    }
    const v = { ok: false, retry: -1, block: 0, index, elapsed: e, current: cur, previous: prev, dirty };
    if (c > L) return v;
    if (prev * (W - e) + (cur + c) * W <= L * W) {
      v.ok = true;
      v.retry = 0;
      return v;
    }
    const k = (L - cur - c) * W;
    // Within this window once enough of `previous` has slid out; otherwise in the next one.
    v.retry = k >= 0 ? W - e - Math.floor(k / prev) : W - e + W - Math.floor(((L - c) * W) / cur);
    return v;
  },

  finish(call, v, charge, table, _nowUs, now) {
    const W = call.windowMs;
    const { elapsed: e, index } = v;
    let cur = v.current;
    let prev = v.previous;
    let write = charge || v.dirty;
    let handle = 0;
    const back = call.giveBack;
    if (charge) {
      cur += call.cost;
      handle = index;
    } else if (back) {
      if (back.handle.value === index && cur > 0) {
        cur = Math.max(0, cur - back.units);
        write = true;
      } else if (back.handle.value === index - 1 && prev > 0) {
        prev = Math.max(0, prev - back.units);
        write = true;
      }
    } else if (call.debt) {
      cur = Math.min(cur + call.debt, 2 * call.limit);
      write = true;
    }
    if (write) table.set(call.key, now, 2 * W - e, index, cur, prev);
    const remaining = Math.max(0, Math.floor((call.limit * W - prev * (W - e)) / W) - cur);
    const reset = cur > 0 ? 2 * W - e : prev > 0 ? W - e : 0;
    return [remaining, reset, handle, 0];
  },
};
