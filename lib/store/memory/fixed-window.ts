import { chargeUnits, type Algorithm, type Verdict } from './algorithm.js';

interface FixedWindowVerdict extends Verdict {
  /** Window end in ms; 0: no window open. */
  end: number;
  used: number;
  /** Units a charge takes (a lease take's share of what is left). */
  units: number;
  /** The stored end was clamped (a clock running ahead wrote it): save the clamped state. */
  dirty: boolean;
}

/**
 * Mirrors `lua/fixed-window.lua`. State: window end (ms), units used. Handle: the window end (and
 * for a lease take, the units taken as its seq, as the script replies).
 */
export const fixedWindow: Algorithm<FixedWindowVerdict> = {
  check(call, table, _nowUs, now) {
    const { limit, windowMs } = call;
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
    const units = chargeUnits(call, limit - used);
    if (units > limit) return { ok: false, retry: -1, block: 0, end, used, units, dirty };
    if (used + units <= limit) return { ok: true, retry: 0, block: 0, end, used, units, dirty };
    return { ok: false, retry: end - now, block: 0, end, used, units, dirty };
  },

  finish(call, v, charge, table, _nowUs, now) {
    let { end, used } = v;
    let handle = 0;
    let seq = 0;
    const back = call.giveBack;
    if (charge) {
      if (end === 0) end = now + call.windowMs;
      used += v.units;
      handle = end;
      if (call.lease) seq = v.units;
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
    if (end === 0) return [call.limit, 0, handle, seq];
    return [Math.max(0, call.limit - used), end - now, handle, seq];
  },
};
