import { chargeUnits, type Algorithm, type Verdict } from './algorithm.js';

interface TokenBucketVerdict extends Verdict {
  /** Emission interval T in µs: one token. */
  interval: number;
  /** Capacity tau = B·T in µs. */
  capacity: number;
  /** Content in µs of refill. */
  credit: number;
  /** Units a charge takes (a lease take's share of what the bucket holds). */
  units: number;
  /** The last write came from a clock running ahead: save the state at our time. */
  dirty: boolean;
}

/** Mirrors `lua/token-bucket.lua`. State: credit (µs), time of the last write (µs). Handle: the TAT after the charge (now + tau - credit), as in gcra (a lease take's seq: the units taken). */
export const tokenBucket: Algorithm<TokenBucketVerdict> = {
  check(call, table, now, nowMs) {
    const T = Math.ceil((call.windowMs * 1000) / call.limit);
    const tau = call.burst * T;
    let credit = tau;
    let dirty = false;
    const slot = table.find(call.key, nowMs);
    if (slot >= 0) {
      // A clock running ahead drains what its lead would have refilled, as gcra's clamped TAT does.
      const last = table.value(slot, 1);
      // Down to -tau after a debt.
      credit = Math.min(tau, Math.max(-tau, table.value(slot, 0) + now - last));
      dirty = last > now;
    }
    const units = chargeUnits(call, Math.floor(credit / T));
    const v = { ok: false, retry: -1, block: 0, interval: T, capacity: tau, credit, units, dirty };
    if (units > call.burst) return v;
    v.ok = credit >= units * T;
    v.retry = v.ok ? 0 : Math.ceil((units * T - credit) / 1000);
    return v;
  },

  finish(call, v, charge, table, now, nowMs) {
    const { interval: T, capacity: tau } = v;
    let credit = v.credit;
    let write = charge || v.dirty;
    const back = call.giveBack;
    if (charge) {
      credit -= v.units * T;
    } else if (back && back.handle.value > now) {
      credit = Math.min(tau, credit + Math.min(back.units * T, back.handle.value - now));
      write = true;
    } else if (call.debt) {
      credit = Math.max(credit - call.debt * T, -tau);
      write = true;
    }
    if (write) {
      if (credit < tau) {
        table.set(call.key, nowMs, Math.ceil((tau - credit) / 1000), credit, now);
      } else {
        table.delete(call.key);
      }
    }
    return [Math.max(0, Math.floor(credit / T)), Math.ceil((tau - credit) / 1000), charge ? now + tau - credit : 0, charge && call.lease ? v.units : 0];
  },
};
