// The metrics' own work per decision, in isolation: the engine's observer set with the Prometheus or
// the OpenTelemetry observer, fed what a loaded Redis-backed app feeds it (one policy per request,
// a store call per batch, a report per event-loop turn), timed in CPU time, so other processes on
// the machine do not count. The decision itself is not in the loop: the result is what metrics add.
import { Logger } from '@nestjs/common';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { libUrl } from './snapshot.mjs';

const { RATE_LIMIT_STORE_DURATION_BUCKETS } = await import(libUrl('index.js'));
const { ObserverSet } = await import(libUrl('metrics/observer-set.js'));
const { PrometheusRateLimitObserver } = await import(libUrl('prometheus/prometheus-rate-limit-observer.js'));
const { OpenTelemetryRateLimitObserver } = await import(libUrl('opentelemetry/open-telemetry-rate-limit-observer.js'));

/**
 * CPU ns per decision that the metrics add, for `decisionsPerTurn` decisions per event-loop turn and
 * one store call per `decisionsPerCall` decisions (1: the memory store, or an idle Redis-backed app).
 */
export async function metricsWorkNs(kind, { decisions = 1_000_000, decisionsPerTurn = 64, decisionsPerCall = 32 } = {}) {
  const set = new ObserverSet(new Logger('bench'));
  let provider;
  if (kind === 'prometheus') set.add(new PrometheusRateLimitObserver(new Registry(), RATE_LIMIT_STORE_DURATION_BUCKETS), false);
  else {
    provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 60_000 })] });
    set.add(new OpenTelemetryRateLimitObserver(provider.getMeter('bench'), RATE_LIMIT_STORE_DURATION_BUCKETS), false);
  }
  const policy = { name: 'gcra', where: 'RateLimiterService' };
  const run = async (observe) => {
    const cpu0 = process.cpuUsage();
    for (let i = 1; i <= decisions; i++) {
      if (observe) {
        set.decision('allowed', policy);
        if (i % decisionsPerCall === 0) set.storeCall(0.0003);
      }
      if (i % decisionsPerTurn === 0) await nextTurn();
    }
    await nextTurn();
    const cpu = process.cpuUsage(cpu0);
    return ((cpu.user + cpu.system) * 1000) / decisions;
  };
  await run(true); // warm-up: JIT, label children, attribute sets
  // The same loop of turns without metrics is subtracted: what remains is the metrics' work.
  const ns = (await run(true)) - (await run(false));
  await provider?.shutdown();
  return ns;
}
