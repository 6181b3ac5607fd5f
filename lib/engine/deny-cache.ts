import type { RateLimitVerdict } from './rate-limit-verdict.js';

interface Entry {
  verdict: RateLimitVerdict;
  sentAt: number;
  expiresAt: number;
}

/**
 * Answers repeat denials without Redis. An entry lives until the send time of the request that
 * was denied plus its retry time (monotonic clock), so it expires no later than Redis would
 * admit the same request: it never denies what Redis would admit. Bounded: the oldest entry goes first.
 */
export class DenyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached denial with its waits shortened by the time since, or `undefined`. */
  get(key: string, now: number): RateLimitVerdict | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    const elapsed = Math.floor(now - entry.sentAt);
    const { verdict } = entry;
    return {
      ...verdict,
      decisions: verdict.decisions.map((d) => ({
        ...d,
        resetMs: Math.max(0, d.resetMs - elapsed),
        retryAfterMs: d.retryAfterMs === null || d.retryAfterMs === 0 ? d.retryAfterMs : Math.max(1, d.retryAfterMs - elapsed),
      })),
    };
  }

  /** Keeps a denial until it can pass: the longest wait of its denying policies, if all are finite. */
  set(key: string, verdict: RateLimitVerdict, sentAt: number): void {
    let waitMs = 0;
    for (let i = 0; i < verdict.decisions.length; i++) {
      const d = verdict.decisions[i];
      if (d.allowed || verdict.policies[i].shadow) continue;
      if (d.retryAfterMs === null) return;
      waitMs = Math.max(waitMs, d.retryAfterMs);
    }
    if (waitMs === 0) return;
    // A refreshed key moves to the newest place; only a new key can push the oldest out.
    if (!this.entries.delete(key) && this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { verdict, sentAt, expiresAt: sentAt + waitMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
