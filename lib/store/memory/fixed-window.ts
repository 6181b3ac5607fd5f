import type { Algorithm, Verdict } from './algorithm.js';

interface FixedWindowVerdict extends Verdict {
  /** Window end in ms; 0: no window open. */
  end: number;
  used: number;
  /** The stored end was clamped (a clock running ahead wrote it): save the clamped state. */
  dirty: boolean;
}

/** Mirrors `lua/fixed-window.lua`. State: window end (ms), units used. Handle: the window end. */
export const fixedWindow: Algorithm<FixedWindowVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit, windowMs, cost } = call;
    let end = 0;
    let used = 0;
    let dirty = false;
    const slot = table.find(call.key, now);
    if (slot >= 0) {
      end = table.value(slot, 0);
      used = table.value(slot, 1);
      if (end <= now) {
        end = 0;
        used = 0;
      } else if (end > now + windowMs) {
        end = now + windowMs;
        dirty = true;
      }
    }
    if (cost > limit) return { ok: false, retry: -1, block: 0, end, used, dirty };
    if (used + cost <= limit) return { ok: true, retry: 0, block: 0, end, used, dirty };
    return { ok: false, retry: end - now, block: 0, end, used, dirty };
  },

  finish(call, v, charge, table, _nowUs, now) {
    let { end, used } = v;
    let handle = 0;
    const back = call.giveBack;
    if (charge) {
      if (end === 0) end = now + call.windowMs;
      used += call.cost;
      handle = end;
      table.set(call.key, now, end - now, end, used);
    } else if (back && end > 0 && end === back.handle.value) {
      used = Math.max(0, used - back.units);
      if (used > 0) {
        table.set(call.key, now, end - now, end, used);
      } else {
        table.delete(call.key);
        end = 0;
      }
    } else if (call.debt) {
      if (end === 0) end = now + call.windowMs;
      used = Math.min(used + call.debt, 2 * call.limit);
      table.set(call.key, now, end - now, end, used);
    } else if (v.dirty) {
      table.set(call.key, now, end - now, end, used);
    }
    if (end === 0) return [call.limit, 0, handle, 0];
    return [Math.max(0, call.limit - used), end - now, handle, 0];
  },
};
