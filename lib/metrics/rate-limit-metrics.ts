/**
 * The instruments of `nestjs-redis-rate-limit/prometheus` and `/opentelemetry`: one definition
 * for both. The OpenTelemetry names follow its conventions; an exporter that applies
 * OpenTelemetry's Prometheus rules (dots to underscores, the unit and `_total` appended) turns
 * them into the Prometheus names, so one dashboard serves both.
 */
export const RATE_LIMIT_METRICS = {
  decisions: {
    prometheus: 'rate_limit_decisions_total',
    openTelemetry: 'rate_limit.decisions',
    unit: '{decision}',
    description:
      'Rate limit decisions, one per policy of each request, by policy, route and outcome ' +
      '(allowed, denied, failed: the store gave no verdict, shadow_denied, error: a tracker, limit or cost function failed)',
  },
  storeDuration: {
    prometheus: 'rate_limit_store_duration_seconds',
    openTelemetry: 'rate_limit.store.duration',
    unit: 's',
    description: 'Duration of each rate limit store call, answered or failed (decisions sent together in one batch are one call)',
  },
  storeFailures: {
    prometheus: 'rate_limit_store_failures_total',
    openTelemetry: 'rate_limit.store.failures',
    unit: '{failure}',
    description: 'Rate limit decisions the store gave no verdict for, by reason (timeout, disconnected, circuit_open, error)',
  },
  circuitOpen: {
    prometheus: 'rate_limit_circuit_open',
    openTelemetry: 'rate_limit.circuit.open',
    unit: '',
    description: '1 while the circuit breaker in front of the rate limit store is open (store calls skipped until a probe succeeds), else 0',
  },
  denyCacheHits: {
    prometheus: 'rate_limit_deny_cache_hits_total',
    openTelemetry: 'rate_limit.deny_cache.hits',
    unit: '{hit}',
    description: 'Requests denied from the local deny cache, with no store call',
  },
} as const;

/**
 * Default upper bounds (seconds) of the store-duration histogram: a batch to a nearby Redis takes
 * 0.1–2 ms, a memory-store call a few µs; the top buckets catch stalls up to the `timeout` range.
 */
export const RATE_LIMIT_STORE_DURATION_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
