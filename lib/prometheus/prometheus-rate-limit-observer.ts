import { Counter, Gauge, Histogram, type OpenMetricsContentType, type PrometheusContentType, type Registry } from 'prom-client';
import {
  RATE_LIMIT_METRICS,
  RATE_LIMIT_STORE_FAILURE_REASONS,
  type RateLimitObservedOutcome,
  type RateLimitObservedPolicy,
  type RateLimitObserver,
  type RateLimitStoreFailureReason,
} from 'nestjs-redis-rate-limit';

export type PrometheusRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

type Kind = 'counter' | 'gauge' | 'histogram';

/**
 * The metric registered under `name`, or a new one. Reuse is what lets two apps in one process
 * (or a test that starts an app twice) share one registry; a metric of another kind or other
 * labels under the name is a start-up error rather than a failure at the first request.
 */
function registered<M>(registry: PrometheusRegistry, name: string, kind: Kind, labelNames: readonly string[], create: () => M): M {
  const existing = registry.getSingleMetric(name) as unknown as { type?: unknown; labelNames?: readonly string[] } | undefined;
  if (!existing) return create();
  const labels = [...(existing.labelNames ?? [])].sort().join(',');
  if (existing.type !== kind || labels !== [...labelNames].sort().join(',')) {
    throw new Error(
      `RateLimitPrometheusModule: the registry already has a metric "${name}" (${String(existing.type)} with labels [${labels}]); ` +
        `it needs a ${kind} with labels [${labelNames.join(',')}]`,
    );
  }
  return existing as M;
}

type Increment = { inc(value?: number): void };

/** Reports the engine's events as prom-client metrics on one registry. */
export class PrometheusRateLimitObserver implements RateLimitObserver {
  private readonly decisionsTotal: Counter<'policy' | 'route' | 'outcome'>;
  /** Label-bound children of `decisionsTotal`, per policy and outcome. */
  private readonly decisionsOf = new WeakMap<RateLimitObservedPolicy, Partial<Record<RateLimitObservedOutcome, Increment>>>();
  private readonly storeDuration: Histogram;
  private readonly storeFailures: Record<RateLimitStoreFailureReason, Increment>;
  private readonly circuitOpen: Gauge;
  private readonly denyCacheHitsTotal: Counter;

  constructor(registry: PrometheusRegistry, storeDurationBuckets: readonly number[]) {
    const registers = [registry];
    const { decisions, storeDuration, storeFailures, circuitOpen, denyCacheHits } = RATE_LIMIT_METRICS;
    const decisionLabels = ['policy', 'route', 'outcome'] as const;
    this.decisionsTotal = registered(registry, decisions.prometheus, 'counter', decisionLabels, () =>
      new Counter({ name: decisions.prometheus, help: decisions.description, labelNames: decisionLabels, registers }),
    );
    this.storeDuration = registered(registry, storeDuration.prometheus, 'histogram', [], () =>
      new Histogram({ name: storeDuration.prometheus, help: storeDuration.description, buckets: [...storeDurationBuckets], registers }),
    );
    const failures = registered(registry, storeFailures.prometheus, 'counter', ['reason'], () =>
      new Counter({ name: storeFailures.prometheus, help: storeFailures.description, labelNames: ['reason'], registers }),
    );
    this.circuitOpen = registered(registry, circuitOpen.prometheus, 'gauge', [], () =>
      new Gauge({ name: circuitOpen.prometheus, help: circuitOpen.description, registers }),
    );
    this.denyCacheHitsTotal = registered(registry, denyCacheHits.prometheus, 'counter', [], () =>
      new Counter({ name: denyCacheHits.prometheus, help: denyCacheHits.description, registers }),
    );
    // Every reason is exported from the start (at 0), so that rate() sees the first failure.
    const byReason: Partial<Record<RateLimitStoreFailureReason, Increment>> = {};
    for (const reason of RATE_LIMIT_STORE_FAILURE_REASONS) {
      byReason[reason] = failures.labels({ reason });
      byReason[reason].inc(0);
    }
    this.storeFailures = byReason as Record<RateLimitStoreFailureReason, Increment>;
  }

  decisions(outcome: RateLimitObservedOutcome, policy: RateLimitObservedPolicy, count: number): void {
    let byOutcome = this.decisionsOf.get(policy);
    if (!byOutcome) this.decisionsOf.set(policy, (byOutcome = {}));
    (byOutcome[outcome] ??= this.decisionsTotal.labels({ policy: policy.name, route: policy.where, outcome })).inc(count);
  }

  storeCall(seconds: number): void {
    this.storeDuration.observe(seconds);
  }

  storeFailure(reason: RateLimitStoreFailureReason): void {
    this.storeFailures[reason].inc();
  }

  circuitChanged(open: boolean): void {
    this.circuitOpen.set(open ? 1 : 0);
  }

  denyCacheHits(count: number): void {
    this.denyCacheHitsTotal.inc(count);
  }
}
