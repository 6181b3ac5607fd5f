import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Gauge, Registry, register } from 'prom-client';
import { RateLimitPrometheusModule } from 'nestjs-redis-rate-limit/prometheus';
import type { TestApp } from '../support/http-app.js';
import { get, startupError } from '../support/http-suite.js';
import { RedisServer } from '../support/redis-server.js';
import type { MetricReadings } from './metric-readings.js';
import { metricScenarios, type MetricsSubject } from './metric-scenarios.js';
import { LimitedController, startMetricsApp } from './metrics-app.js';

const REGISTRY = Symbol('REGISTRY');

/** What Prometheus would scrape: the app's registry in the text format. */
@Controller('metrics')
class ScrapeController {
  constructor(@Inject(REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', register.contentType)
  scrape() {
    return this.registry.metrics();
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (the lines a scrape returns). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function readingsOf(samples: Sample[]): MetricReadings {
  const sum = (name: string, labels: Record<string, string | undefined> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => v === undefined || s.labels[k] === v))
      .reduce((total, s) => total + s.value, 0);
  const has = (name: string) => samples.some((s) => s.name === name);
  return {
    decisions: (labels) => sum('rate_limit_decisions_total', labels),
    storeDuration: () => ({ count: sum('rate_limit_store_duration_seconds_count'), sum: sum('rate_limit_store_duration_seconds_sum') }),
    failures: (reason) => sum('rate_limit_store_failures_total', { reason }),
    circuitOpen: () => (has('rate_limit_circuit_open') ? sum('rate_limit_circuit_open') : undefined),
    denyCacheHits: () => sum('rate_limit_deny_cache_hits_total'),
    labelValues: () => samples.flatMap((s) => Object.values(s.labels)),
  };
}

async function scrape(app: TestApp): Promise<MetricReadings> {
  const response = await get(`${app.url}/metrics`);
  expect(response.status).toBe(200);
  return readingsOf(parseExposition(response.body as string));
}

function prometheusSubject(registry = new Registry()): MetricsSubject {
  return {
    metrics: RateLimitPrometheusModule.forRoot({ registry }),
    controllers: [ScrapeController],
    providers: [{ provide: REGISTRY, useValue: registry }],
    read: scrape,
  };
}

describe('nestjs-redis-rate-limit/prometheus, scraped over HTTP', () => {
  metricScenarios(() => prometheusSubject());

  describe('registries', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await RedisServer.start();
    });
    afterAll(async () => {
      await redis.destroy();
    });

    it('lets two apps in one process share a registry: the second reuses the metrics and both count into them', async () => {
      const registry = new Registry();
      const first = await startMetricsApp({ ...prometheusSubject(registry), options: { redis: redis.url } });
      const second = await startMetricsApp({ ...prometheusSubject(registry), options: { redis: redis.url, keyPrefix: 'second' } });
      try {
        for (let i = 0; i < 2; i++) expect((await get(`${first.url}/open`, { 'x-client': 'a' })).status).toBe(200);
        for (let i = 0; i < 3; i++) expect((await get(`${second.url}/open`, { 'x-client': 'b' })).status).toBe(200);
        const readings = await scrape(first);
        expect(readings.decisions({ route: 'LimitedController.open', outcome: 'allowed' })).toBe(5);
        expect(readings.storeDuration().count).toBeGreaterThanOrEqual(5);
        expect(registry.getMetricsAsArray().filter((m) => m.name === 'rate_limit_decisions_total')).toHaveLength(1);
      } finally {
        await second.close();
        await first.close();
      }
    });

    it("registers on prom-client's default registry when given none, and times memory-store calls", async () => {
      const app = await startMetricsApp({ metrics: RateLimitPrometheusModule.forRoot(), options: { store: 'memory' } });
      try {
        for (let i = 0; i < 4; i++) await get(`${app.url}/limited`, { 'x-client': 'memory' });
        // Read in-process: decisions are reported at the end of the event-loop turn they were made in.
        await new Promise((resolve) => setImmediate(resolve));
        const readings = readingsOf(parseExposition(await register.metrics()));
        expect(readings.decisions({ route: 'LimitedController.limited', outcome: 'allowed' })).toBe(3);
        expect(readings.decisions({ route: 'LimitedController.limited', outcome: 'denied' })).toBe(1);
        expect(readings.storeDuration().count).toBe(4);
        expect(readings.storeDuration().sum).toBeGreaterThan(0);
      } finally {
        await app.close();
      }
    });

    it('takes its registry from a factory with forRootAsync', async () => {
      const registry = new Registry();
      const app = await startMetricsApp({
        metrics: RateLimitPrometheusModule.forRootAsync({ useFactory: async () => ({ registry }) }),
        options: { store: 'memory' },
      });
      try {
        expect((await get(`${app.url}/open`, { 'x-client': 'async' })).status).toBe(200);
        await new Promise((resolve) => setImmediate(resolve));
        const readings = readingsOf(parseExposition(await registry.metrics()));
        expect(readings.decisions({ route: 'LimitedController.open', outcome: 'allowed' })).toBe(1);
      } finally {
        await app.close();
      }
    });

    it('refuses to start, naming the metric, when the registry holds one of its names with another shape', async () => {
      const registry = new Registry();
      new Gauge({ name: 'rate_limit_decisions_total', help: 'something else', registers: [registry] });
      const error = await startupError('express', {
        imports: [RateLimitPrometheusModule.forRoot({ registry }), (await import('nestjs-redis-rate-limit')).RateLimitModule.forRoot({ store: 'memory' })],
        controllers: [LimitedController],
      });
      expect(String(error)).toMatch(/rate_limit_decisions_total.*gauge.*needs a counter/);
    });
  });
});
