import type { Algorithm, Verdict } from './algorithm.js';

interface FixedWindowVerdict extends Verdict {
  /** Window end in ms; 0: no window open. */
  end: number;
  used: number;
}

/** Mirrors `lua/fixed-window.lua`. State: window end (ms), units used. */
export const fixedWindow: Algorithm<FixedWindowVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit, windowMs, cost } = call;
    let end = 0;
    let used = 0;
    const slot = table.find(call.key, now);
    if (slot >= 0) {
      end = table.value(slot, 0);
      used = table.value(slot, 1);
      if (end <= now) {
        end = 0;
        used = 0;
      } else if (end > now + windowMs) {
        end = now + windowMs;
      }
    }
    if (cost > limit) return { ok: false, retry: -1, blocked: false, end, used };
    if (used + cost <= limit) return { ok: true, retry: 0, blocked: false, end, used };
    return { ok: false, retry: end - now, blocked: false, end, used };
  },

  finish(call, v, charge, table, _nowUs, now) {
    let { end, used } = v;
    if (charge) {
      if (call.cost > 0) {
        if (end === 0) end = now + call.windowMs;
        used += call.cost;
      } else {
        used = Math.max(0, used + call.cost);
      }
      if (used > 0) {
        table.set(call.key, now, end - now, end, used);
      } else if (end > 0) {
        table.delete(call.key);
        end = 0;
      }
    }
    if (end === 0) return [call.limit, 0];
    return [Math.max(0, call.limit - used), end - now];
  },
};
