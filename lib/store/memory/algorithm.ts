import type { StoreCall } from '../rate-limit-store.interface.js';
import type { StateTable } from './state-table.js';

/** One policy's verdict before any write, as `check` leaves it in `lua/decide.lua`. */
export interface Verdict {
  ok: boolean;
  /** Ms until the same cost passes; -1: never. */
  retry: number;
  /** Ms left of a block on the key; 0: none. */
  block: number;
}

/** What `finish` reports: remaining, resetMs, and the charge's handle (0, 0: not charged). */
export type Finished = [remaining: number, resetMs: number, handle: number, seq: number];

/**
 * An algorithm module, mirroring `lua/<algorithm>.lua`: `check` reads state and decides (a
 * give-back, whose `cost` is 0, as a peek); `finish` writes when told to charge or for the
 * call's give-back.
 */
export interface Algorithm<V extends Verdict = Verdict> {
  check(call: StoreCall, table: StateTable, nowUs: number, nowMs: number): V;
  finish(call: StoreCall, verdict: V, charge: boolean, table: StateTable, nowUs: number, nowMs: number): Finished;
}

/**
 * Units a charge of `call` takes: its cost, or for a lease take as many as the budget has
 * (`available`), at least the cost and at most the lease.
 */
export const chargeUnits = (call: StoreCall, available: number) => (call.lease ? Math.max(call.cost, Math.min(call.lease, available)) : call.cost);
