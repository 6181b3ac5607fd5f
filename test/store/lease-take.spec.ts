import { beforeEach, describe, expect, it } from '@jest/globals';
import { giveBackOf } from '../../lib/store/give-back.js';
import { MemoryRateLimitStore } from '../../lib/store/memory/memory-rate-limit-store.js';
import type { StoreCall } from '../../lib/store/rate-limit-store.interface.js';
import { decideInSlotGroups } from '../../lib/store/redis/decide-in-slot-groups.js';
import { T0, call, type AlgorithmName, type ClockedStore } from '../memory/calls.js';
import { useClockedStores } from '../support/clocked-stores.js';

// A lease take charges as many units as the budget has, at least the cost and at most the
// lease, as one charge with the usual handle; fewer than the cost left is the usual denial.

const stores = useClockedStores();

const LEASED: AlgorithmName[] = ['fixed-window', 'token-bucket', 'gcra'];
const take = (c: StoreCall, lease: number, cost = 1): StoreCall => ({ ...c, cost, lease });

describe.each(Object.keys(stores) as Array<keyof typeof stores>)('%s store', (name) => {
  describe.each(LEASED)('%s', (algorithm) => {
    // 10 units an hour: nothing refills within a test.
    const c = call(algorithm, { limit: 10, windowMs: 3_600_000 });
    let store: ClockedStore;
    beforeEach(() => {
      store = stores[name]();
    });

    it('takes up to the lease, then what is left, then denies as a request of its cost would', async () => {
      const first = (await store.decideAt([take(c, 4)], T0)).results[0];
      expect(first).toMatchObject({ allowed: true, remaining: 6, leased: 4 });
      expect(first.charge).toBeDefined();
      await store.decideAt([take(c, 4)], T0);
      const last = (await store.decideAt([take(c, 4)], T0)).results[0];
      expect(last).toMatchObject({ allowed: true, remaining: 0, leased: 2 });
      const denied = (await store.decideAt([take(c, 4)], T0)).results[0];
      const plain = (await store.decideAt([c], T0)).results[0];
      expect(denied).toEqual(plain);
      expect(denied.allowed).toBe(false);
    });

    it('takes at least its cost', async () => {
      expect((await store.decideAt([take(c, 2, 5)], T0)).results[0]).toMatchObject({ allowed: true, remaining: 5, leased: 5 });
      // 5 left: a cost of 6 is denied, a cost of 5 takes them all.
      expect((await store.decideAt([take(c, 2, 6)], T0)).results[0].allowed).toBe(false);
      expect((await store.decideAt([take(c, 2, 5)], T0)).results[0]).toMatchObject({ allowed: true, remaining: 0, leased: 5 });
    });

    it('charges nothing when another policy of the request denies', async () => {
      const narrow = call('fixed-window', { key: 'narrow', limit: 1, windowMs: 3_600_000 });
      await store.decideAt([narrow], T0);
      const verdict = await store.decideAt([take(c, 4), narrow], T0);
      expect(verdict.allowed).toBe(false);
      expect(verdict.results[0].leased).toBeUndefined();
      expect((await store.decideAt([{ ...c, cost: 0 }], T0)).results[0].remaining).toBe(10);
    });

    it('a give-back of the unspent units credits them while the charge holds them', async () => {
      const charged = (await store.decideAt([take(c, 6)], T0)).results[0];
      await store.decideAt([giveBackOf(c, 4, charged.charge!)], T0 + 1_000);
      // Spent 2 of 6: the other 4 are back.
      expect((await store.decideAt([{ ...c, cost: 0 }], T0 + 1_000)).results[0].remaining).toBe(8);
    });
  });
});

describe('Cluster slot groups', () => {
  it('a later group that denies gives back every unit an earlier lease take charged', async () => {
    const memory = new MemoryRateLimitStore();
    const decide = (calls: readonly StoreCall[]) => memory.decideAt(calls, T0);
    const leased = take(call('fixed-window', { key: 'rl:{a}:f', limit: 10, windowMs: 3_600_000 }), 5);
    const full = call('fixed-window', { key: 'rl:{b}:f', limit: 1, windowMs: 3_600_000 });
    await decide([full]);
    const verdict = await decideInSlotGroups([leased, full], decide);
    expect(verdict.allowed).toBe(false);
    expect((await decide([{ ...leased, cost: 0, lease: undefined }])).results[0].remaining).toBe(10);
  });
});
