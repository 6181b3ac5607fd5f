import type { ChargeHandle, StoreCall } from './rate-limit-store.interface.js';

/** The store call that returns `units` of the charge `handle` made by `charged` (same policy and key). */
export const giveBackOf = (charged: StoreCall, units: number, handle: ChargeHandle): StoreCall => ({
  ...charged,
  cost: 0,
  lease: undefined,
  giveBack: { units, handle },
});
