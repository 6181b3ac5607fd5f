import { ValueType, type Attributes, type Counter, type Gauge, type Histogram, type Meter } from '@opentelemetry/api';
import {
  RATE_LIMIT_METRICS,
  type RateLimitObservedOutcome,
  type RateLimitObservedPolicy,
  type RateLimitObserver,
  type RateLimitStoreFailureReason,
} from 'nestjs-redis-rate-limit';

/** Reports the engine's events as instruments of one OpenTelemetry `Meter`. */
export class OpenTelemetryRateLimitObserver implements RateLimitObserver {
  private readonly decisionsTotal: Counter;
  /** The attribute sets of `decisionsTotal`, per policy and outcome: built once, not per report. */
  private readonly attributesOf = new WeakMap<RateLimitObservedPolicy, Partial<Record<RateLimitObservedOutcome, Attributes>>>();
  private readonly storeDuration: Histogram;
  private readonly storeFailures: Counter;
  private readonly failureAttributes: Partial<Record<RateLimitStoreFailureReason, Attributes>> = {};
  private readonly circuitOpen: Gauge;
  private readonly denyCacheHitsTotal: Counter;

  constructor(meter: Meter, storeDurationBuckets: readonly number[]) {
    const { decisions, storeDuration, storeFailures, circuitOpen, denyCacheHits } = RATE_LIMIT_METRICS;
    const options = (metric: { description: string; unit: string }) => ({
      description: metric.description,
      unit: metric.unit,
      valueType: ValueType.INT,
    });
    // A Meter hands out the same instrument for the same name and options: two apps on one
    // meter share these, as they share a prom-client registry.
    this.decisionsTotal = meter.createCounter(decisions.openTelemetry, options(decisions));
    this.storeDuration = meter.createHistogram(storeDuration.openTelemetry, {
      ...options(storeDuration),
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [...storeDurationBuckets] },
    });
    this.storeFailures = meter.createCounter(storeFailures.openTelemetry, options(storeFailures));
    this.circuitOpen = meter.createGauge(circuitOpen.openTelemetry, options(circuitOpen));
    this.denyCacheHitsTotal = meter.createCounter(denyCacheHits.openTelemetry, options(denyCacheHits));
  }

  decisions(outcome: RateLimitObservedOutcome, policy: RateLimitObservedPolicy, count: number): void {
    let byOutcome = this.attributesOf.get(policy);
    if (!byOutcome) this.attributesOf.set(policy, (byOutcome = {}));
    this.decisionsTotal.add(count, (byOutcome[outcome] ??= { policy: policy.name, route: policy.where, outcome }));
  }

  storeCall(seconds: number): void {
    this.storeDuration.record(seconds);
  }

  storeFailure(reason: RateLimitStoreFailureReason): void {
    this.storeFailures.add(1, (this.failureAttributes[reason] ??= { reason }));
  }

  circuitChanged(open: boolean): void {
    this.circuitOpen.record(open ? 1 : 0);
  }

  denyCacheHits(count: number): void {
    this.denyCacheHitsTotal.add(count);
  }
}
