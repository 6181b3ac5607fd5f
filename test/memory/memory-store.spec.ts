import { describe, expect, it } from '@jest/globals';
import { MemoryRateLimitStore } from '../../lib/store/memory/memory-rate-limit-store.js';
import { giveBackOf } from '../../lib/store/give-back.js';
import { ALGORITHMS, T0, call, decideFlat } from './calls.js';

/** µs at `ms` after T0. */
const at = (ms: number) => T0 + ms * 1000;
const BUCKETS = new Set(['token-bucket', 'gcra']);

describe.each(ALGORITHMS)('%s in memory', (algorithm) => {
  it('admits exactly limit units, then denies with a retry time that works', async () => {
    const store = new MemoryRateLimitStore();
    const c = call(algorithm);
    for (let i = 0; i < 5; i++) expect((await decideFlat(store, [c], at(i))).slice(0, 3)).toEqual([1, 1, 4 - i]);
    const [allowed, , remaining, , retryMs] = await decideFlat(store, [c], at(10));
    expect([allowed, remaining]).toEqual([0, 0]);
    expect(retryMs).toBeGreaterThan(0);
    expect((await decideFlat(store, [c], at(10 + retryMs - 1)))[0]).toBe(0);
    expect((await decideFlat(store, [c], at(10 + retryMs)))[0]).toBe(1);
  });

  it('charges the cost, never admits more than the capacity and charges nothing on a denial', async () => {
    const store = new MemoryRateLimitStore();
    expect(await decideFlat(store, [call(algorithm, { cost: 3 })], T0)).toEqual([1, 1, 2, expect.any(Number), 0]);
    expect(await decideFlat(store, [call(algorithm, { cost: 6 })], T0)).toEqual([0, 0, 2, expect.any(Number), -1]);
    expect((await decideFlat(store, [call(algorithm, { cost: 3 })], T0))[0]).toBe(0);
    expect((await decideFlat(store, [call(algorithm, { cost: 2 })], T0)).slice(0, 3)).toEqual([1, 1, 0]);
  });

  it('peeks with cost 0 and gives back a charge by its handle', async () => {
    const store = new MemoryRateLimitStore();
    const { charge } = (await store.decideAt([call(algorithm, { cost: 2 })], T0)).results[0];
    await decideFlat(store, [call(algorithm, { cost: 1 })], T0);
    expect((await decideFlat(store, [call(algorithm, { cost: 0 })], T0)).slice(0, 4)).toEqual([1, 1, 2, expect.any(Number)]);
    expect((await decideFlat(store, [call(algorithm, { cost: 0 })], T0)).slice(0, 3)).toEqual([1, 1, 2]);
    expect((await decideFlat(store, [giveBackOf(call(algorithm), 2, charge!)], T0)).slice(0, 3)).toEqual([1, 1, 4]);
  });

  it('forgets the state when its Redis key would expire, even unread', async () => {
    const store = new MemoryRateLimitStore();
    await decideFlat(store, [call(algorithm)], T0);
    expect(store.size).toBe(1);
    // What PX the script gives this key: the window (whole windows for sliding-window, T0
    // being aligned), or one emission interval of 2 s for the buckets.
    const ttlMs = BUCKETS.has(algorithm) ? 2_000 : algorithm === 'sliding-window' ? 20_000 : 10_000;
    const peekElsewhere = (ms: number) => decideFlat(store, [call(algorithm, { key: 'other', cost: 0 })], at(ms));
    await peekElsewhere(ttlMs);
    expect(store.size).toBe(1);
    await peekElsewhere(ttlMs + 1);
    expect(store.size).toBe(0);
    expect((await decideFlat(store, [call(algorithm, { cost: 5 })], at(ttlMs + 1))).slice(0, 3)).toEqual([1, 1, 0]);
  });

  it('blocks the key for blockFor after a denial, without extending the block', async () => {
    const store = new MemoryRateLimitStore();
    const c = call(algorithm, { blockForMs: 30_000 });
    for (let i = 0; i < 5; i++) await decideFlat(store, [c], T0);
    expect((await decideFlat(store, [c], T0)).slice(0, 5)).toEqual([0, 0, 0, expect.any(Number), 30_000]);
    expect(await decideFlat(store, [c], at(15_000))).toEqual([0, 0, expect.any(Number), expect.any(Number), 15_000]);
    expect((await decideFlat(store, [call(algorithm, { blockForMs: 30_000, cost: 0 })], at(15_000)))[0]).toBe(1);
    expect((await decideFlat(store, [c], at(29_999)))[0]).toBe(0);
    expect((await decideFlat(store, [c], at(30_000)))[0]).toBe(1);
  });

  it('does not block on a cost that can never pass', async () => {
    const store = new MemoryRateLimitStore();
    expect((await decideFlat(store, [call(algorithm, { blockForMs: 30_000, cost: 6 })], T0))[4]).toBe(-1);
    expect((await decideFlat(store, [call(algorithm, { blockForMs: 30_000 })], T0))[0]).toBe(1);
  });
});

describe('several policies in one decision', () => {
  it('admits only if every policy admits, and then charges them all', async () => {
    const store = new MemoryRateLimitStore();
    const strict = call('gcra', { key: 'strict', limit: 1, burst: 1 });
    const loose = call('sliding-log', { key: 'loose' });
    expect(await decideFlat(store, [strict, loose], T0)).toEqual([1, 1, 0, 10_000, 0, 1, 4, 10_000, 0]);
    expect(await decideFlat(store, [strict, loose], T0)).toEqual([0, 0, 0, 10_000, 10_000, 1, 4, 10_000, 0]);
    expect((await decideFlat(store, [{ ...loose, cost: 0 }], T0)).slice(0, 3)).toEqual([1, 1, 4]);
  });

  it('never lets a shadow policy veto, and charges it only when it admits', async () => {
    const store = new MemoryRateLimitStore();
    const shadow = call('fixed-window', { key: 'shadow', limit: 1, shadow: true });
    const enforced = call('fixed-window', { key: 'enforced', limit: 2 });
    expect((await decideFlat(store, [shadow, enforced], T0)).slice(0, 3)).toEqual([1, 1, 0]);
    expect((await decideFlat(store, [shadow, enforced], T0)).slice(0, 6)).toEqual([1, 0, 0, 10_000, 10_000, 1]);
    const vetoed = await decideFlat(store, [{ ...shadow, key: 'shadow2' }, enforced], T0);
    expect(vetoed.slice(0, 3)).toEqual([0, 1, 1]);
    expect((await decideFlat(store, [{ ...shadow, key: 'shadow2', cost: 0 }], T0))[2]).toBe(1);
  });

  it('blocks only the policies that denied', async () => {
    const store = new MemoryRateLimitStore();
    const denying = call('fixed-window', { key: 'a', limit: 1, blockForMs: 60_000 });
    const admitting = call('fixed-window', { key: 'b', blockForMs: 60_000 });
    await decideFlat(store, [denying, admitting], T0);
    expect(await decideFlat(store, [denying, admitting], T0)).toEqual([0, 0, 0, 60_000, 60_000, 1, 4, 10_000, 0]);
    expect((await decideFlat(store, [admitting], at(1)))[0]).toBe(1);
  });
});

describe('memory bounds', () => {
  it('forgets the least recently written key past maxKeys', async () => {
    const store = new MemoryRateLimitStore({ maxKeys: 3 });
    const full = (key: string) => call('fixed-window', { key, cost: 5 });
    const handles = [];
    for (const key of ['a', 'b', 'c']) handles.push((await store.decideAt([full(key)], T0)).results[0].charge!);
    await decideFlat(store, [giveBackOf(full('a'), 1, handles[0])], T0); // a is now the newest
    await decideFlat(store, [full('d')], T0);
    expect(store.size).toBe(3);
    expect((await decideFlat(store, [full('b')], T0))[0]).toBe(1);
    expect((await decideFlat(store, [call('fixed-window', { key: 'a', cost: 2 })], T0))[0]).toBe(0);
  });

  it('keeps at most maxKeys keys for three times as many clients', async () => {
    const store = new MemoryRateLimitStore();
    const c = call('gcra');
    const clients = 300_000; // three times the default maxKeys, and a few seconds even on a loaded machine
    // Decisions run synchronously under the promise, and the store keeps no reference to the
    // call: one call object, not awaited, keeps many decisions quick.
    for (let i = 0; i < clients; i++) {
      c.key = `rl:{10.${i >> 16}.${(i >> 8) & 255}.${i & 255}}:g1`;
      void decideFlat(store, [c], T0 + i);
    }
    expect(store.size).toBe(100_000);
    expect((await decideFlat(store, [{ ...c, key: 'rl:{10.0.0.0}:g1' }], T0 + clients))[0]).toBe(1);
  }, 60_000);

  it('sweeps expired keys a few per decision', async () => {
    const store = new MemoryRateLimitStore();
    for (let i = 0; i < 100; i++) await decideFlat(store, [call('fixed-window', { key: `k${i}` })], T0);
    for (let i = 0; i < 20; i++) await decideFlat(store, [call('fixed-window', { key: 'k0', cost: 0 })], at(10_001));
    expect(store.size).toBe(0);
  });

  it('rejects a maxKeys below 1', () => {
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow(/maxKeys/);
  });
});

describe('MemoryRateLimitStore', () => {
  it('is always ready and decides on the clock when given no time', async () => {
    const store = new MemoryRateLimitStore();
    expect(store.isReady()).toBe(true);
    const c = call('fixed-window', { limit: 1, windowMs: 60_000 });
    const started = performance.now();
    expect((await decideFlat(store, [c]))[0]).toBe(1);
    const [allowed, , , , retryMs] = await decideFlat(store, [c]);
    const elapsedMs = performance.now() - started;
    expect(allowed).toBe(0);
    // The window opened at the first decision: what is left of it is 60 s less the time between them.
    expect(retryMs).toBeGreaterThanOrEqual(60_000 - Math.ceil(elapsedMs) - 1);
    expect(retryMs).toBeLessThanOrEqual(60_000);
  });

  it('resets state and block keys', async () => {
    const store = new MemoryRateLimitStore();
    const c = call('sliding-log', { limit: 1, blockForMs: 60_000 });
    await decideFlat(store, [c], T0);
    await decideFlat(store, [c], T0);
    await store.reset([c.key, c.blockKey as string]);
    expect(store.size).toBe(0);
    expect((await decideFlat(store, [c], T0))[0]).toBe(1);
  });
});
