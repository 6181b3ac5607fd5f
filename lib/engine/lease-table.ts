import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { giveBackOf } from '../store/give-back.js';
import type { ChargeHandle, PolicyResult, StoreCall, StoreVerdict } from '../store/rate-limit-store.interface.js';
import type { FailureLog } from '../support/failure-log.js';

type Send = (calls: readonly StoreCall[]) => Promise<StoreVerdict>;

/** A refill in flight, and how many requests (its sender included) count on its units. */
interface Refill {
  readonly verdict: Promise<StoreVerdict>;
  claims: number;
}

/** Units of one policy key charged to this instance and not yet spent. */
interface Lease {
  units: number;
  /** The take that charged them (its limit, burst and window: spent only under the same). */
  readonly call: StoreCall;
  readonly handle: ChargeHandle;
  /** What the store had left after the take, and when it would be full again (ms from `takenAt`). */
  remaining: number;
  resetMs: number;
  /** `performance.now()` when the take was sent: every local time below counts from it, so errs early. */
  takenAt: number;
  /** No unit is spent from `endsAt` on. */
  endsAt: number;
  /** Fixed-window: when its window ends (until then unspent units go back into it); buckets: never given back. */
  readonly windowEndsAt: number | undefined;
}

/** Longest a lease lives (DESIGN.md, Leases). */
const LEASE_MS = 1_000;
/** How often ended leases are given back. */
const SWEEP_MS = 250;
/** Leased keys held at most; past it the oldest lease ends. */
const MAX_LEASES = 10_000;
/** Refills of others a request waits for before it takes units itself: bounds the loop. */
const MAX_WAITS = 64;

const FIXED_WINDOW = 1;

/** A request's identity for sharing a refill: its keys, limits and costs (what a denial depends on). */
const refillKey = (calls: readonly StoreCall[]) => {
  let key = '';
  for (const call of calls) key += `${call.key} ${call.limit} ${call.cost}|`;
  return key;
};

/**
 * Units this instance leased (DESIGN.md, Performance → Leases): a request whose policies all
 * have `lease` is admitted here while each policy's lease holds its cost; otherwise one store call
 * takes up to `lease` units of each, charged before they are spent, so the store's bound holds.
 * Concurrent requests that need the same refill wait for it rather than each sending their own.
 * A fixed-window lease ends at its window's end or after 1 s and gives unspent units back into
 * its window (handle); a bucket lease ends after 1 s, giving nothing back.
 */
export class LeaseTable {
  private readonly leases = new Map<string, Lease>();
  /** The newest refill in flight per request identity. */
  private readonly refills = new Map<string, Refill>();
  /** Every refill in flight, for shutdown. */
  private readonly inFlight = new Set<Promise<StoreVerdict>>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  /** Bumped by `drop`: a refill sent before then brings no units (their state may be gone). */
  private generation = 0;

  constructor(
    private readonly send: Send,
    private readonly failures: FailureLog,
  ) {}

  /** Whether a request is decided through leases: every policy leased, every cost >= 1. */
  static covers(policies: readonly CompiledPolicy[], calls: readonly StoreCall[]): boolean {
    for (let i = 0; i < policies.length; i++) {
      if (policies[i].lease === 0 || calls[i].cost === 0) return false;
    }
    return true;
  }

  /** Spends each call's cost from its lease if every one of them holds it: the verdict, or `undefined`. */
  spend(calls: readonly StoreCall[], now: number): StoreVerdict | undefined {
    const found: Lease[] = new Array(calls.length);
    for (let i = 0; i < calls.length; i++) {
      const lease = this.leases.get(calls[i].key);
      if (!lease || lease.units < calls[i].cost || now >= lease.endsAt || !sameBudget(lease.call, calls[i])) return undefined;
      found[i] = lease;
    }
    const results: PolicyResult[] = new Array(calls.length);
    for (let i = 0; i < calls.length; i++) {
      const lease = found[i];
      lease.units -= calls[i].cost;
      results[i] = localResult(lease, now);
    }
    return { allowed: true, results };
  }

  /**
   * Decides a request that `spend` could not: with the units of the refill in flight for the same
   * request while it can take as many requests as have joined it (sharing its denial), or else
   * with a refill of its own, which later ones join. So n callers at once send about n / lease
   * refills, in one store batch. Rejects as the store call does.
   */
  async refill(policies: readonly CompiledPolicy[], calls: readonly StoreCall[]): Promise<StoreVerdict> {
    const id = refillKey(calls);
    // Requests of this identity one refill serves: each policy's lease over the request's cost.
    let serves = Infinity;
    for (let i = 0; i < calls.length; i++) serves = Math.min(serves, Math.floor(policies[i].lease / calls[i].cost));
    for (let waits = 0; waits < MAX_WAITS; waits++) {
      const pending = this.refills.get(id);
      if (!pending || pending.claims >= serves) break;
      pending.claims++;
      const verdict = await pending.verdict;
      if (!verdict.allowed) return verdict;
      const spent = this.spend(calls, performance.now());
      if (spent) return spent;
    }
    const takenAt = performance.now();
    // Up to the lease in all: a policy whose lease still holds units (another policy of the route
    // ran out) takes only what tops it up, so nothing piles up on this instance.
    const takes = calls.map((call, i) => ({ ...call, lease: Math.max(1, policies[i].lease - this.held(call, takenAt)) }));
    const generation = this.generation;
    const done = () => {
      if (this.refills.get(id) === refill) this.refills.delete(id);
      this.inFlight.delete(refill.verdict);
    };
    const refill: Refill = {
      claims: 1,
      verdict: this.send(takes).then(
        (verdict) => {
          done();
          return verdict.allowed ? this.keep(takes, verdict, takenAt, generation) : verdict;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      ),
    };
    this.refills.set(id, refill);
    this.inFlight.add(refill.verdict);
    return refill.verdict;
  }

  /** Units the lease of a call's key holds for it now (0 if it ended or was taken under another budget). */
  private held(call: StoreCall, now: number): number {
    const lease = this.leases.get(call.key);
    return lease && now < lease.endsAt && sameBudget(lease.call, call) ? lease.units : 0;
  }

  /** Ends the leases of these keys without giving anything back: their state is being reset. */
  drop(keys: readonly string[]): void {
    this.generation++;
    for (const key of keys) this.leases.delete(key);
  }

  /** Ends every lease, giving back what can be (shutdown), once the refills in flight have landed. */
  async endAll(): Promise<void> {
    // Each is bounded by the store's timeout; a failed one brought no units.
    await Promise.allSettled(this.inFlight);
    this.stopSweeper();
    const now = performance.now();
    const giveBacks = [...this.leases.values()].map((lease) => this.end(lease, now));
    this.leases.clear();
    await Promise.all(giveBacks);
  }

  /**
   * Records the units a refill took beyond the request's own cost (which it spends at once), and
   * the request's verdict with this instance's view of what is left.
   */
  private keep(takes: readonly StoreCall[], verdict: StoreVerdict, takenAt: number, generation: number): StoreVerdict {
    const results: PolicyResult[] = new Array(takes.length);
    for (let i = 0; i < takes.length; i++) {
      const take = takes[i];
      const result = verdict.results[i];
      const units = (result.leased ?? take.cost) - take.cost;
      results[i] = { ...result, remaining: result.remaining + units, charge: undefined, leased: undefined };
      if (generation === this.generation && result.charge) this.add(take, result, result.charge, units, takenAt);
    }
    return { allowed: true, results };
  }

  private add(take: StoreCall, result: PolicyResult, handle: ChargeHandle, units: number, takenAt: number): void {
    const windowEndsAt = take.algorithm === FIXED_WINDOW ? takenAt + result.resetMs : undefined;
    const endsAt = takenAt + (windowEndsAt === undefined ? LEASE_MS : Math.min(LEASE_MS, result.resetMs));
    const old = this.leases.get(take.key);
    if (old && old.units > 0 && takenAt < old.endsAt && sameBudget(old.call, take) && (windowEndsAt === undefined || old.handle.value === handle.value)) {
      // The same budget (and window): one lease, ending when the older units must.
      old.units += units;
      old.remaining = result.remaining;
      old.resetMs = result.resetMs;
      old.takenAt = takenAt;
      old.endsAt = Math.min(old.endsAt, endsAt);
      return;
    }
    if (old) {
      this.leases.delete(take.key);
      void this.end(old, performance.now());
    } else if (this.leases.size >= MAX_LEASES) {
      const [oldestKey, oldest] = this.leases.entries().next().value!;
      this.leases.delete(oldestKey);
      void this.end(oldest, performance.now());
    }
    this.leases.set(take.key, { units, call: take, handle, remaining: result.remaining, resetMs: result.resetMs, takenAt, endsAt, windowEndsAt });
    this.startSweeper();
  }

  /** Gives a lease's unspent units back into their window while it is open (fixed-window only). */
  private end(lease: Lease, now: number): Promise<void> {
    if (lease.units === 0 || lease.windowEndsAt === undefined || now >= lease.windowEndsAt) return Promise.resolve();
    const units = lease.units;
    lease.units = 0;
    return this.send([giveBackOf(lease.call, units, lease.handle)]).then(
      () => undefined,
      (error: unknown) => this.failures.failed(`leased units not given back (dropped): ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    for (const [key, lease] of this.leases) {
      if (now < lease.endsAt) continue;
      this.leases.delete(key);
      void this.end(lease, now);
    }
    if (this.leases.size === 0) this.stopSweeper();
  };

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(this.sweep, SWEEP_MS);
    this.sweeper.unref();
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** Units leased under one limit, burst and window are spent only under the same (a tier change takes anew). */
const sameBudget = (a: StoreCall, b: StoreCall) => a.limit === b.limit && a.burst === b.burst && a.windowMs === b.windowMs;

/**
 * A locally admitted request's numbers: what the store had left at the take plus what this
 * lease still holds (for buckets also what has refilled since), and the reset counted from the take.
 */
function localResult(lease: Lease, now: number): PolicyResult {
  const elapsedMs = now - lease.takenAt;
  let remaining = lease.remaining + lease.units;
  if (lease.windowEndsAt === undefined) {
    const { limit, windowMs, burst } = lease.call;
    const intervalUs = Math.ceil((windowMs * 1000) / limit);
    remaining = Math.min(burst, remaining + Math.floor((elapsedMs * 1000) / intervalUs));
  }
  return { allowed: true, remaining, resetMs: Math.max(0, Math.ceil(lease.resetMs - elapsedMs)), retryAfterMs: 0, charge: undefined };
}
