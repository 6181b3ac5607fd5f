import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { RATE_LIMIT_STORE_DURATION_BUCKETS } from 'nestjs-redis-rate-limit';
import { RateLimitOpenTelemetryModule } from 'nestjs-redis-rate-limit/opentelemetry';
import { get } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';
import type { MetricReadings } from './metric-readings.js';
import { metricScenarios, type MetricsSubject } from './metric-scenarios.js';
import { startMetricsApp } from './metrics-app.js';

/** A reader the test collects from on demand (what a periodic exporter does on its timer). */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}

  async metrics(): Promise<MetricData[]> {
    // Decisions are reported at the end of the event-loop turn they were made in.
    await new Promise((resolve) => setImmediate(resolve));
    const { resourceMetrics, errors } = await this.collect();
    expect(errors).toEqual([]);
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }
}

function readingsOf(collected: MetricData[]): MetricReadings {
  const metric = (name: string) => collected.find((m) => m.descriptor.name === name);
  const sum = (name: string, attributes: Record<string, string | undefined> = {}) => {
    const data = metric(name);
    if (!data) return 0;
    if (data.dataPointType !== DataPointType.SUM) throw new Error(`${name} is not a sum`);
    return data.dataPoints
      .filter((p) => Object.entries(attributes).every(([k, v]) => v === undefined || p.attributes[k] === v))
      .reduce((total, p) => total + p.value, 0);
  };
  return {
    decisions: (attributes) => sum('rate_limit.decisions', attributes),
    storeDuration: () => {
      const data = metric('rate_limit.store.duration');
      if (!data) return { count: 0, sum: 0 };
      if (data.dataPointType !== DataPointType.HISTOGRAM) throw new Error('rate_limit.store.duration is not a histogram');
      return data.dataPoints.reduce((total, p) => ({ count: total.count + p.value.count, sum: total.sum + (p.value.sum ?? 0) }), { count: 0, sum: 0 });
    },
    failures: (reason) => sum('rate_limit.store.failures', { reason }),
    circuitOpen: () => {
      const data = metric('rate_limit.circuit.open');
      if (!data) return undefined;
      if (data.dataPointType !== DataPointType.GAUGE) throw new Error('rate_limit.circuit.open is not a gauge');
      return data.dataPoints[0]?.value;
    },
    denyCacheHits: () => sum('rate_limit.deny_cache.hits'),
    labelValues: () => collected.flatMap((m) => m.dataPoints.flatMap((p) => Object.values(p.attributes).map(String))),
  };
}

function openTelemetrySubject(reader = new CollectingReader()): MetricsSubject & { reader: CollectingReader } {
  const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
  return {
    reader,
    metrics: RateLimitOpenTelemetryModule.forRoot({ meter }),
    read: async () => readingsOf(await reader.metrics()),
  };
}

describe('nestjs-redis-rate-limit/opentelemetry, read from the OpenTelemetry SDK', () => {
  metricScenarios(() => openTelemetrySubject());

  describe('meters', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await RedisServer.start();
    });
    afterAll(async () => {
      await redis.destroy();
    });

    it('creates its instruments with units and the store-duration buckets, and two apps on one meter count into the same ones', async () => {
      const reader = new CollectingReader();
      const meter = new MeterProvider({ readers: [reader] }).getMeter('shared');
      const first = await startMetricsApp({ metrics: RateLimitOpenTelemetryModule.forRoot({ meter }), options: { redis: redis.url } });
      const second = await startMetricsApp({ metrics: RateLimitOpenTelemetryModule.forRoot({ meter }), options: { redis: redis.url, keyPrefix: 'second' } });
      try {
        for (let i = 0; i < 2; i++) expect((await get(`${first.url}/open`, { 'x-client': 'a' })).status).toBe(200);
        for (let i = 0; i < 3; i++) expect((await get(`${second.url}/open`, { 'x-client': 'b' })).status).toBe(200);
        const collected = await reader.metrics();
        expect(readingsOf(collected).decisions({ route: 'LimitedController.open', outcome: 'allowed' })).toBe(5);
        expect(collected.filter((m) => m.descriptor.name === 'rate_limit.decisions')).toHaveLength(1);
        const duration = collected.find((m) => m.descriptor.name === 'rate_limit.store.duration')!;
        expect(duration.descriptor.unit).toBe('s');
        if (duration.dataPointType !== DataPointType.HISTOGRAM) throw new Error('not a histogram');
        expect(duration.dataPoints[0].value.buckets.boundaries).toEqual(RATE_LIMIT_STORE_DURATION_BUCKETS);
        expect(duration.dataPoints[0].value.count).toBeGreaterThanOrEqual(5);
      } finally {
        await second.close();
        await first.close();
      }
    });

    it("uses the global MeterProvider's meter when given none, and times memory-store calls", async () => {
      const reader = new CollectingReader();
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
      try {
        const app = await startMetricsApp({ metrics: RateLimitOpenTelemetryModule.forRoot(), options: { store: 'memory' } });
        try {
          for (let i = 0; i < 4; i++) await get(`${app.url}/limited`, { 'x-client': 'memory' });
          const readings = readingsOf(await reader.metrics());
          expect(readings.decisions({ route: 'LimitedController.limited', outcome: 'allowed' })).toBe(3);
          expect(readings.decisions({ route: 'LimitedController.limited', outcome: 'denied' })).toBe(1);
          expect(readings.storeDuration().count).toBe(4);
          expect(readings.storeDuration().sum).toBeGreaterThan(0);
          expect(readings.circuitOpen()).toBe(0);
        } finally {
          await app.close();
        }
      } finally {
        metrics.disable();
      }
    });
  });
});
