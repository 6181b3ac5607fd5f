import { beforeEach, describe, expect, it } from '@jest/globals';
import { giveBackOf } from '../../lib/store/give-back.js';
import type { ChargeHandle, StoreCall } from '../../lib/store/rate-limit-store.interface.js';
import { RATE_ALGORITHMS as ALGORITHMS, T0, call, type AlgorithmName, type ClockedStore } from '../memory/calls.js';
import { useClockedStores } from '../support/clocked-stores.js';

// Give-backs credit only what is still in the state from their charge (DESIGN.md, Give-backs),
// in both stores: no delay between a charge and its give-back ever creates budget.

const stores = useClockedStores();

const W = 10_000; // ms
const L = 5;
const WINDOWS: AlgorithmName[] = ['fixed-window', 'sliding-window', 'sliding-log'];

/** Units the budget has left at `us` (a peek). */
async function remaining(store: ClockedStore, c: StoreCall, us: number): Promise<number> {
  return (await store.decideAt([{ ...c, cost: 0 }], us)).results[0].remaining;
}

async function charge(store: ClockedStore, c: StoreCall, cost: number, us: number): Promise<ChargeHandle> {
  const verdict = await store.decideAt([{ ...c, cost }], us);
  expect(verdict.allowed).toBe(true);
  return verdict.results[0].charge!;
}

describe.each(Object.keys(stores) as Array<keyof typeof stores>)('%s store', (name) => {
  describe.each(ALGORITHMS)('%s', (algorithm) => {
    const c = call(algorithm, { limit: L, windowMs: W });
    let store: ClockedStore;
    beforeEach(() => {
      store = stores[name]();
    });

    it('hands back a charge at once, and charges nothing on a give-back', async () => {
      await charge(store, c, 1, T0);
      const second = await charge(store, c, 2, T0);
      expect(await remaining(store, c, T0)).toBe(2);
      const verdict = await store.decideAt([giveBackOf(c, 2, second)], T0);
      expect(verdict.allowed).toBe(true);
      expect(verdict.results[0].charge).toBeUndefined();
      // The first charge still counts.
      expect(verdict.results[0].remaining).toBe(4);
      expect(await remaining(store, c, T0)).toBe(4);
    });

    it('a partial give-back returns only what it names', async () => {
      const handle = await charge(store, c, 4, T0);
      await store.decideAt([giveBackOf(c, 3, handle)], T0);
      expect(await remaining(store, c, T0)).toBe(4);
    });

    it('a give-back of a charge that has left the state credits nothing, however later charges stand', async () => {
      const old = await charge(store, c, 3, T0);
      // Past every trace of the first charge: two windows for the windows (sliding-window keeps
      // the previous one), a full refill for the buckets.
      const later = T0 + 2 * W * 1000 + 1000;
      expect(await remaining(store, c, later)).toBe(L);
      await charge(store, c, 4, later);
      await store.decideAt([giveBackOf(c, 3, old)], later);
      expect(await remaining(store, c, later)).toBe(1);
    });

    if (WINDOWS.includes(algorithm)) {
      it('a give-back after the window of its charge ended credits nothing to a later one', async () => {
        const old = await charge(store, c, 3, T0);
        // fixed-window: a new window; sliding-window: two aligned windows on (past "previous");
        // sliding-log: the entry has slid out.
        const windowMs = Math.floor(T0 / 1000 / W) * W;
        const next = algorithm === 'sliding-window' ? (windowMs + 2 * W) * 1000 : T0 + W * 1000 + 1000;
        await charge(store, c, 1, next);
        await store.decideAt([giveBackOf(c, 3, old)], next);
        expect(await remaining(store, c, next)).toBe(L - 1);
      });
    } else {
      it('a give-back during the refill credits at most what is still owed of its charge', async () => {
        const T = Math.ceil((W * 1000) / L); // µs per unit
        const old = await charge(store, c, 3, T0);
        // Two of its three units have refilled by themselves: one is left to give back.
        const at = T0 + 2 * T;
        await charge(store, c, 3, at);
        expect(await remaining(store, c, at)).toBe(1);
        await store.decideAt([giveBackOf(c, 3, old)], at);
        expect(await remaining(store, c, at)).toBe(2);
      });
    }
  });
});
