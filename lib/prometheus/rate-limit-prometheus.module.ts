import { ConfigurableModuleBuilder, Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { register } from 'prom-client';
import { RATE_LIMIT_STORE_DURATION_BUCKETS, RateLimitEngine } from 'nestjs-redis-rate-limit';
import { PrometheusRateLimitObserver, type PrometheusRegistry } from './prometheus-rate-limit-observer.js';

export interface RateLimitPrometheusOptions {
  /** The registry to register the metrics on; default prom-client's global `register`. */
  registry?: PrometheusRegistry;
  /** Upper bounds (seconds) of `rate_limit_store_duration_seconds`; default 50 µs to 1 s. */
  storeDurationBuckets?: readonly number[];
}

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<RateLimitPrometheusOptions>({
  moduleName: 'RateLimitPrometheus',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateLimitPrometheusOptions')
  .build();

/**
 * Rate limit metrics in prom-client: `RateLimitPrometheusModule.forRoot({ registry? })` (or
 * `forRootAsync`) next to `RateLimitModule`. The app serves the registry (`registry.metrics()`)
 * as it serves its other metrics.
 */
@Module({})
export class RateLimitPrometheusModule extends ConfigurableModuleClass implements OnModuleInit {
  constructor(
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: RateLimitPrometheusOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    super();
  }

  static override forRoot(options: RateLimitPrometheusOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  onModuleInit(): void {
    let engine: RateLimitEngine;
    try {
      engine = this.moduleRef.get(RateLimitEngine, { strict: false });
    } catch {
      throw new Error('RateLimitPrometheusModule: no RateLimitModule in this app; import RateLimitModule.forRoot(...) too');
    }
    const { registry = register, storeDurationBuckets = RATE_LIMIT_STORE_DURATION_BUCKETS } = this.options;
    engine.addObserver(new PrometheusRateLimitObserver(registry, storeDurationBuckets));
  }
}
