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
  /** The stored full time was past now + 2 tau (a clock running ahead): save the clamped state. */
  dirty: boolean;
}

/**
 * Mirrors `lua/token-bucket.lua`. State: the time the bucket is full again (µs), in a key that
 * expires at ceil(that time / 1000) ms as the script's does. Handle: the TAT after the charge
 * (now + tau - credit), as in gcra (a lease take's seq: the units taken).
 */
export const tokenBucket: Algorithm<TokenBucketVerdict> = {
  check(call, table, now, nowMs) {
    const T = Math.ceil((call.windowMs * 1000) / call.limit);
    const tau = call.burst * T;
    let credit = tau;
    let dirty = false;
    const slot = table.find(call.key, nowMs);
    if (slot >= 0) {
      const full = table.value(slot, 0);
      // Down to -tau after a debt; further is a clock running ahead, drained as gcra's clamped TAT is.
      credit = Math.min(tau, Math.max(-tau, tau - (full - now)));
      dirty = full > now + 2 * tau;
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
        const full = now + tau - credit;
        table.set(call.key, nowMs, Math.ceil(full / 1000) - nowMs, full);
      } else {
        table.delete(call.key);
      }
    }
    return [Math.max(0, Math.floor(credit / T)), Math.ceil((tau - credit) / 1000), charge ? now + tau - credit : 0, charge && call.lease ? v.units : 0];
  },
};
