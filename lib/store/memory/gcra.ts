import { chargeUnits, type Algorithm, type Verdict } from './algorithm.js';

interface GcraVerdict extends Verdict {
  /** Emission interval T in µs. */
  interval: number;
  /** tau = B·T in µs. */
  capacity: number;
  /** Theoretical arrival time in µs, clamped to [now, now + 2 tau]. */
  tat: number;
  /** Units a charge takes (a lease take's share of what the bucket holds). */
  units: number;
  /** The stored TAT was beyond now + 2 tau (a clock running ahead): save the clamped one. */
  dirty: boolean;
}

/**
 * Mirrors `lua/gcra.lua`. State: the theoretical arrival time TAT (µs), in a key that expires
 * at ceil(TAT / 1000) ms as the script's does. Handle: the TAT after the charge (a lease take's
 * seq: the units taken).
 */
export const gcra: Algorithm<GcraVerdict> = {
  check(call, table, now, nowMs) {
    const T = Math.ceil((call.windowMs * 1000) / call.limit);
    const tau = call.burst * T;
    const slot = table.find(call.key, nowMs);
    const stored = Math.max(slot >= 0 ? table.value(slot, 0) : now, now);
    // A debt may take the TAT up to now + 2 tau; beyond is a clock running ahead.
    const tat = Math.min(stored, now + 2 * tau);
    const units = chargeUnits(call, Math.floor((tau - tat + now) / T));
    const v = { ok: false, retry: -1, block: 0, interval: T, capacity: tau, tat, units, dirty: stored > tat };
    if (units > call.burst) return v;
    v.ok = tat + units * T - now <= tau;
    v.retry = v.ok ? 0 : Math.ceil((tat + units * T - tau - now) / 1000);
    return v;
  },

  finish(call, v, charge, table, now, nowMs) {
    const { interval: T, capacity: tau } = v;
    let tat = v.tat;
    let write = charge || v.dirty;
    const back = call.giveBack;
    if (charge) {
      tat += v.units * T;
    } else if (back && back.handle.value > now) {
      tat = Math.max(now, tat - Math.min(back.units * T, back.handle.value - now));
      write = true;
    } else if (call.debt) {
      tat = Math.min(tat + call.debt * T, now + 2 * tau);
      write = true;
    }
    if (write) {
      if (tat > now) {
        table.set(call.key, nowMs, Math.ceil(tat / 1000) - nowMs, tat);
      } else {
        table.delete(call.key);
      }
    }
    return [Math.max(0, Math.floor((tau - (tat - now)) / T)), Math.ceil((tat - now) / 1000), charge ? tat : 0, charge && call.lease ? v.units : 0];
  },
};
