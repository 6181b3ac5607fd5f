/** What a metrics suite reads back, whichever library holds the metrics. */
export interface MetricReadings {
  /** `rate_limit_decisions_total` summed over the series matching `labels`. */
  decisions(labels: { policy?: string; route?: string; outcome?: string }): number;
  /** `rate_limit_store_duration_seconds`: observations and their sum. */
  storeDuration(): { count: number; sum: number };
  /** `rate_limit_store_failures_total`, for one reason or summed over all. */
  failures(reason?: string): number;
  /** `rate_limit_circuit_open`, `undefined` when not exported. */
  circuitOpen(): number | undefined;
  denyCacheHits(): number;
  /** Every label value exported, to check that none is a tracker. */
  labelValues(): string[];
}

export type ReadMetrics = () => Promise<MetricReadings>;
