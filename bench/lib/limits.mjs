// Budgets shared by every side of every scenario.

/** Throughput runs admit everything: a budget no run can exhaust. */
export const BIG_LIMIT = 10_000;
export const WINDOW_MS = 60_000;
/** Flood runs: a tiny budget over a long window, so one key is denied for the whole run. */
export const FLOOD_LIMIT = 10;
export const FLOOD_WINDOW_MS = 3_600_000;
/** Bytes per key: a budget whose state outlives the measurement for every algorithm (gcra keeps 6 s). */
export const MEMORY_LIMIT = 10;
/**
 * The library's `timeout` (ms) in the in-process scenarios, and in the HTTP servers. The library
 * default is 100 ms; on a shared 2-core machine a scheduler stall longer than that makes the
 * library fail open (and its breaker then skips Redis for 2 s), which is no longer a decision.
 * 1 s keeps the measurement on the decision path; the per-decision work (one timer) is the same.
 * BENCH_TIMEOUT_MS=100 measures with the default.
 */
export const DECISION_TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS || 1000);
