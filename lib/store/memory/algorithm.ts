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

/**
 * An algorithm module, mirroring `lua/<algorithm>.lua`: `check` reads state and decides,
 * `finish` writes only when told to charge and reports `[remaining, resetMs]`.
 */
export interface Algorithm<V extends Verdict = Verdict> {
  check(call: StoreCall, table: StateTable, nowUs: number, nowMs: number): V;
  finish(call: StoreCall, verdict: V, charge: boolean, table: StateTable, nowUs: number, nowMs: number): [number, number];
}
