/** A slot holds the expiry time (ms) and up to three numbers of algorithm state. */
const FIELDS = 4;
/** Entries inspected for expiry per operation: enough to outpace the keys one operation writes. */
const SWEEP_STEP = 8;
const NO_ENTRIES: readonly number[] = [];

/**
 * Per-key state that expires like a Redis key with a PX TTL: a key written at `nowMs` with
 * `ttlMs` is present up to and including `nowMs + ttlMs` and gone after (Redis: expired iff
 * now > expiry). Numbers live in one growing Float64Array (no object per key); keys map to
 * slots in a Map kept in write order, so the least recently written key is evicted first when
 * `maxKeys` is reached. Expired keys are dropped when met and by a sweep of a few entries per
 * operation, so memory is bounded without a timer per key.
 */
export class StateTable {
  private readonly slots = new Map<string, number>();
  private values = new Float64Array(FIELDS * 1024);
  /** Sliding-log entries per slot, flattened as [time, sequence, cost, time, ...] by time. */
  private readonly logs: Array<number[] | undefined> = [];
  private readonly free: number[] = [];
  // Long-lived Map iterators: one resumes the sweep where it stopped; the other stands at
  // the oldest key (everything before it has been evicted), so neither rescans deleted entries.
  private sweeper: Iterator<string> | undefined;
  private oldest: Iterator<string> | undefined;

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.slots.size;
  }

  /** The key's slot, or -1 when it is absent or expired. */
  find(key: string, nowMs: number): number {
    const slot = this.slots.get(key);
    if (slot === undefined) return -1;
    if (nowMs > this.values[slot * FIELDS]) {
      this.remove(key, slot);
      return -1;
    }
    return slot;
  }

  /** State number `field` (0–2) of a slot returned by `find` or `set`. */
  value(slot: number, field: number): number {
    return this.values[slot * FIELDS + 1 + field];
  }

  /** The slot's sliding-log entries. */
  log(slot: number): readonly number[] {
    return this.logs[slot] ?? NO_ENTRIES;
  }

  setLog(slot: number, entries: number[]): void {
    this.logs[slot] = entries;
  }

  /** Writes the key (like SET ... PX ttlMs, or PEXPIRE when no numbers are given) and makes it the newest. */
  set(key: string, nowMs: number, ttlMs: number, a = 0, b = 0, c = 0): number {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.allocate();
      // A key built by concatenation is a tree of its pieces in V8; reading a character
      // flattens it into one string, which roughly halves what a stored key costs.
      key.charCodeAt(0);
    } else {
      this.slots.delete(key);
    }
    this.slots.set(key, slot);
    const i = slot * FIELDS;
    this.values[i] = nowMs + ttlMs;
    this.values[i + 1] = a;
    this.values[i + 2] = b;
    this.values[i + 3] = c;
    return slot;
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) this.remove(key, slot);
  }

  /** Drops the expired keys among the next few in the sweep's round. */
  sweep(nowMs: number): void {
    for (let n = 0; n < SWEEP_STEP; n++) {
      let next = this.sweeper?.next();
      if (!next || next.done) {
        this.sweeper = this.slots.keys();
        next = this.sweeper.next();
        if (next.done) return;
      }
      this.find(next.value, nowMs);
    }
  }

  private allocate(): number {
    if (this.slots.size >= this.maxKeys) this.evictOldest();
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const slot = this.logs.length;
    this.logs.push(undefined);
    if ((slot + 1) * FIELDS > this.values.length) {
      const grown = new Float64Array(Math.min(this.values.length * 2, Math.max(this.maxKeys, 1024) * FIELDS));
      grown.set(this.values);
      this.values = grown;
    }
    return slot;
  }

  private evictOldest(): void {
    let next = this.oldest?.next();
    if (!next || next.done) {
      this.oldest = this.slots.keys();
      next = this.oldest.next();
    }
    if (!next.done) this.delete(next.value);
  }

  private remove(key: string, slot: number): void {
    this.slots.delete(key);
    this.logs[slot] = undefined;
    this.free.push(slot);
  }
}
