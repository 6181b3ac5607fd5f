import type { Algorithm, Verdict } from './algorithm.js';

/** Numbers per slot: expiry (ms), acquired (ms), sequence, cost. */
const SLOT = 4;

interface ConcurrencyVerdict extends Verdict {
  /** The cost of the live slots (expiry > now). */
  live: number;
  /** The highest sequence among the live slots acquired at now. */
  seq: number;
  /** Some slot expires after now + W (a clock running ahead): save it clamped. */
  dirty: boolean;
}

/**
 * Mirrors `lua/concurrency.lua`. State: the slots [expiry, acquired, sequence, cost], expired ones
 * included until the next charge drops them (as ZREMRANGEBYSCORE does). Handle: the slot's
 * acquired time and sequence.
 */
export const concurrency: Algorithm<ConcurrencyVerdict> = {
  check(call, table, _nowUs, now) {
    const slot = table.find(call.key, now);
    const slots = slot >= 0 ? table.log(slot) : [];
    let live = 0;
    let seq = 0;
    let dirty = false;
    for (let i = 0; i < slots.length; i += SLOT) {
      if (slots[i] <= now) continue;
      live += slots[i + 3];
      if (slots[i] > now + call.windowMs) dirty = true;
      if (slots[i + 1] === now) seq = Math.max(seq, slots[i + 2]);
    }
    const v = { ok: false, retry: -1, block: 0, live, seq, dirty };
    if (call.cost > call.limit) return v;
    v.ok = live + call.cost <= call.limit;
    v.retry = v.ok ? 0 : 1000;
    return v;
  },

  finish(call, v, charge, table, _nowUs, now) {
    const { key, windowMs: W } = call;
    let slot = table.find(key, now);
    let slots = slot >= 0 ? table.log(slot) : [];
    if (v.dirty) {
      const clamped = slots.map((value, i) => (i % SLOT === 0 && value > now + W ? now + W : value));
      table.setLog(slot, clamped);
      slots = clamped;
    }
    let live = v.live;
    let handle = 0;
    let handleSeq = 0;
    const target = call.giveBack?.handle ?? call.renew;
    if (charge) {
      handle = now;
      handleSeq = v.seq + 1;
      const kept = slots.filter((_, i) => slots[i - (i % SLOT)] > now);
      slot = table.set(key, now, W);
      table.setLog(slot, kept.concat([now + W, now, handleSeq, call.cost]));
      live += call.cost;
    } else if (target) {
      for (let i = 0; i < slots.length; i += SLOT) {
        if (slots[i] <= now || slots[i + 1] !== target.value || slots[i + 2] !== target.seq) continue;
        if (call.renew) {
          const renewed = slots.slice();
          renewed[i] = now + W;
          slot = table.set(key, now, W);
          table.setLog(slot, renewed);
        } else {
          live -= slots[i + 3];
          if (slots.length === SLOT) table.delete(key);
          else table.setLog(slot, slots.slice(0, i).concat(slots.slice(i + SLOT)));
        }
        break;
      }
    }
    return [Math.max(0, call.limit - live), 0, handle, handleSeq];
  },
};
