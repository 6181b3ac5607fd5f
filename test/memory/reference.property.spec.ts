import { afterAll, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { MemoryRateLimitStore } from '../../lib/store/memory/memory-rate-limit-store.js';
import { giveBackOf } from '../../lib/store/give-back.js';
import type { ChargeHandle } from '../../lib/store/rate-limit-store.interface.js';
import { ALGORITHMS, T0, call, type AlgorithmName, flat } from './calls.js';

// First-principles checks of what the algorithms promise, on traces of one client. The memory
// store stands for both engines: parity.property.spec.ts shows it replies as the Lua does.
const RUNS = 400;
// A few seconds a property here; many times that on a loaded machine.
jest.setTimeout(120_000);

interface Policy {
  limit: number;
  windowMs: number;
  burst: number;
  blockForMs: number;
}

/**
 * A step waits then asks for `cost`; a negative cost gives that many units back to the last
 * charge; a probe instead waits the last denial's retry (or 1 ms less) and asks again.
 */
interface Step {
  dtUs: number;
  cost: number;
  probe: 'none' | 'at-retry' | 'before-retry';
}

interface Event {
  us: number;
  ms: number;
  cost: number;
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryMs: number;
  probe: Step['probe'];
}

const policyArb = (blockFor: boolean) =>
  fc.record({
    limit: fc.integer({ min: 1, max: 20 }),
    windowMs: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 51, max: 10_000 })),
    burst: fc.integer({ min: 1, max: 20 }),
    blockForMs: blockFor ? fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })) : fc.constant(0),
  });

function stepsArb(p: Policy, options: { refunds: boolean; probes: boolean }): fc.Arbitrary<Step[]> {
  const capacity = Math.max(p.limit, p.burst);
  const windowUs = p.windowMs * 1000;
  const costs: Array<{ arbitrary: fc.Arbitrary<number>; weight: number }> = [
    { arbitrary: fc.constant(1), weight: 6 },
    { arbitrary: fc.integer({ min: 0, max: capacity + 1 }), weight: 3 },
  ];
  if (options.refunds) costs.push({ arbitrary: fc.integer({ min: -3, max: -1 }), weight: 1 });
  const step = fc.record({
    dtUs: fc.oneof(
      { arbitrary: fc.constant(0), weight: 2 },
      { arbitrary: fc.integer({ min: 1, max: 2_000 }), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: Math.ceil(windowUs / p.limit) }), weight: 3 },
      { arbitrary: fc.integer({ min: 0, max: 3 * windowUs }), weight: 1 },
    ),
    cost: fc.oneof(...costs),
    probe: options.probes ? fc.constantFrom<Step['probe']>('none', 'none', 'at-retry', 'before-retry') : fc.constant<Step['probe']>('none'),
  });
  return fc.array(step, { minLength: 1, maxLength: 80, size: 'max' });
}

function traceArb(options: { refunds: boolean; probes: boolean; blockFor: boolean }) {
  return fc
    .tuple(policyArb(options.blockFor), fc.integer({ min: 0, max: 1e9 }))
    .chain(([policy, offset]) => stepsArb(policy, options).map((steps) => ({ policy, start: T0 + offset, steps })));
}

/** Runs the steps for one client against a fresh store; a probe only runs after a denial that can pass. */
async function run(algorithm: AlgorithmName, p: Policy, start: number, steps: Step[]): Promise<Event[]> {
  const store = new MemoryRateLimitStore();
  const events: Event[] = [];
  let us = start;
  let lastCharge: ChargeHandle = { value: 1, seq: 0 };
  for (const s of steps) {
    const last = events[events.length - 1];
    const probing = s.probe !== 'none' && last !== undefined && !last.allowed && last.retryMs > 0;
    us = probing ? last.us + (last.retryMs - (s.probe === 'before-retry' ? 1 : 0)) * 1000 : us + s.dtUs;
    const cost = probing ? last.cost : s.cost;
    const policyCall = call(algorithm, { ...p, cost: Math.max(0, cost) });
    const verdict = await store.decideAt([cost < 0 ? giveBackOf(policyCall, -cost, lastCharge) : policyCall], us);
    lastCharge = verdict.results[0].charge ?? lastCharge;
    const [, allowed, remaining, resetMs, retryMs] = flat(verdict);
    events.push({ us, ms: Math.floor(us / 1000), cost, allowed: allowed === 1, remaining, resetMs, retryMs, probe: probing ? s.probe : 'none' });
  }
  return events;
}

const admitted = (events: Event[]) => events.filter((e) => e.allowed && e.cost > 0);

/** The most units admitted in any W ms (ms in (t - W, t]); the largest sums end at an admission. */
function mostInAnyWindow(events: Event[], windowMs: number): number {
  const taken = admitted(events);
  let most = 0;
  for (let j = 0; j < taken.length; j++) {
    let sum = 0;
    for (let i = j; i >= 0 && taken[i].ms > taken[j].ms - windowMs; i--) sum += taken[i].cost;
    most = Math.max(most, sum);
  }
  return most;
}

describe.each(ALGORITHMS)('%s', (algorithm) => {
  it('retryAfterMs is the least wait after which the same cost passes, blockFor included', async () => {
    await fc.assert(
      fc.asyncProperty(traceArb({ refunds: false, probes: true, blockFor: true }), async ({ policy, start, steps }) => {
        for (const e of await run(algorithm, policy, start, steps)) {
          if (e.probe === 'at-retry') expect(e).toMatchObject({ allowed: true });
          if (e.probe === 'before-retry') expect(e).toMatchObject({ allowed: false });
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('sliding-log', () => {
  it('is exact: admits iff the cost admitted in the last W ms plus c is at most L, and says when it will', async () => {
    await fc.assert(
      fc.asyncProperty(traceArb({ refunds: false, probes: true, blockFor: false }), async ({ policy: p, start, steps }) => {
        const events = await run('sliding-log', p, start, steps);
        const expected = events.map((e, i) => {
          const before = admitted(events.slice(0, i));
          const usedAt = (ms: number) => before.filter((a) => a.ms > ms - p.windowMs).reduce((sum, a) => sum + a.cost, 0);
          const fits = (ms: number) => e.cost <= p.limit && usedAt(ms) + e.cost <= p.limit;
          const allowed = fits(e.ms);
          const after = allowed && e.cost > 0 ? [...before, e] : before;
          const used = after.filter((a) => a.ms > e.ms - p.windowMs).reduce((sum, a) => sum + a.cost, 0);
          // The sum only drops when an entry leaves the window, so the least wait is one of those.
          const waits = before.map((a) => a.ms + p.windowMs - e.ms).filter((d) => d > 0 && fits(e.ms + d));
          return {
            ...e,
            allowed,
            remaining: Math.max(0, p.limit - used),
            resetMs: used === 0 ? 0 : Math.max(...after.map((a) => a.ms)) + p.windowMs - e.ms,
            retryMs: allowed ? 0 : e.cost > p.limit ? -1 : Math.min(...waits),
          };
        });
        expect(events).toEqual(expected);
        expect(mostInAnyWindow(events, p.windowMs)).toBeLessThanOrEqual(p.limit);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('fixed-window', () => {
  it('opens a window at an admitted request when none is open and admits at most L units in it', async () => {
    await fc.assert(
      fc.asyncProperty(traceArb({ refunds: false, probes: true, blockFor: false }), async ({ policy: p, start, steps }) => {
        const events = await run('fixed-window', p, start, steps);
        let end = 0;
        let used = 0;
        let most = 0;
        const expected = events.map((e) => {
          if (e.ms >= end) used = 0;
          const allowed = e.cost <= p.limit && used + e.cost <= p.limit;
          if (allowed && e.cost > 0) {
            if (used === 0) end = e.ms + p.windowMs;
            used += e.cost;
            most = Math.max(most, used);
          }
          return allowed;
        });
        expect(events.map((e) => e.allowed)).toEqual(expected);
        expect(most).toBeLessThanOrEqual(p.limit);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('token-bucket and gcra', () => {
  it.each(['token-bucket', 'gcra'] as const)('%s admits at most B + (t2 - t1) / T units in any [t1, t2], T = ceil(W·1000/L) µs', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(traceArb({ refunds: false, probes: true, blockFor: true }), async ({ policy: p, start, steps }) => {
        const T = Math.ceil((p.windowMs * 1000) / p.limit);
        const taken = admitted(await run(algorithm, p, start, steps));
        // The largest excess over each bound, over every [t1, t2] spanned by admitted requests.
        let overT = -Infinity;
        let overRate = -Infinity;
        for (let i = 0; i < taken.length; i++) {
          let sum = 0;
          for (let j = i; j < taken.length; j++) {
            sum += taken[j].cost;
            const spanUs = taken[j].us - taken[i].us;
            overT = Math.max(overT, sum - (p.burst + spanUs / T));
            // Which keeps within the policy's nominal rate, L per W, as T rounds up.
            overRate = Math.max(overRate, sum - (p.burst + (p.limit * spanUs) / (p.windowMs * 1000)));
          }
        }
        expect(overT).toBeLessThanOrEqual(0);
        expect(overRate).toBeLessThanOrEqual(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('decide the same trace identically, number for number, give-backs and blocks included', async () => {
    await fc.assert(
      fc.asyncProperty(traceArb({ refunds: true, probes: true, blockFor: true }), async ({ policy, start, steps }) => {
        expect(await run('token-bucket', policy, start, steps)).toEqual(await run('gcra', policy, start, steps));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('sliding-window', () => {
  /** The most units admitted in any W ms, as a multiple of L. */
  const worstWindow = (events: Event[], p: Policy) => mostInAnyWindow(events, p.windowMs) / p.limit;
  let observed = 0;
  afterAll(() => console.log(`sliding-window: most admitted in any W ms over random traces = ${observed.toFixed(3)} x limit`));

  // Weighting the previous window by the share of it still inside the sliding window assumes
  // its requests were spread evenly. If they all came at its very end, a client may add about
  // L·e/W in the current window while they are all still inside the last W ms: less than 2L.
  it('admits less than 2L in any W ms', async () => {
    await fc.assert(
      fc.asyncProperty(traceArb({ refunds: false, probes: true, blockFor: false }), async ({ policy: p, start, steps }) => {
        const worst = worstWindow(await run('sliding-window', p, start, steps), p);
        observed = Math.max(observed, worst);
        expect(worst).toBeLessThan(2);
      }),
      { numRuns: RUNS },
    );
  });

  it('comes near 2L for a client that fills a window at its very end', async () => {
    const p = { limit: 100, windowMs: 1000, burst: 100, blockForMs: 0 };
    const start = T0 + 999_000; // the last ms of an aligned window
    const steps: Step[] = [{ dtUs: 0, cost: 100, probe: 'none' }];
    for (let ms = 1; ms < 1000; ms++) steps.push({ dtUs: 1000, cost: 1, probe: 'none' }, { dtUs: 0, cost: 1, probe: 'none' });
    const worst = worstWindow(await run('sliding-window', p, start, steps), p);
    console.log(`sliding-window: adversarial trace (L = 100 at the end of one window, then steady) = ${worst.toFixed(3)} x limit`);
    expect(worst).toBeGreaterThan(1.9);
    expect(worst).toBeLessThan(2);
  });
});
