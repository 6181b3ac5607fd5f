import { ConfigurableModuleBuilder, Inject, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { metrics, type Meter } from '@opentelemetry/api';
import { RATE_LIMIT_STORE_DURATION_BUCKETS, RateLimitEngine } from 'nestjs-redis-rate-limit';
import { OpenTelemetryRateLimitObserver } from './open-telemetry-rate-limit-observer.js';

export interface RateLimitOpenTelemetryOptions {
  /** The meter to create the instruments on; default `metrics.getMeter('nestjs-redis-rate-limit')` of the global MeterProvider. */
  meter?: Meter;
  /** Bucket boundaries (seconds) advised for `rate_limit.store.duration`; default 50 µs to 1 s. */
  storeDurationBuckets?: readonly number[];
}

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = new ConfigurableModuleBuilder<RateLimitOpenTelemetryOptions>({
  moduleName: 'RateLimitOpenTelemetry',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createRateLimitOpenTelemetryOptions')
  .build();

/**
 * Rate limit metrics on an OpenTelemetry `Meter`: `RateLimitOpenTelemetryModule.forRoot({ meter? })`
 * (or `forRootAsync`) next to `RateLimitModule`. Without a `meter`, the global MeterProvider's,
 * so register the SDK before the app starts.
 */
@Module({})
export class RateLimitOpenTelemetryModule extends ConfigurableModuleClass implements OnModuleInit {
  constructor(
    @Inject(MODULE_OPTIONS_TOKEN) private readonly options: RateLimitOpenTelemetryOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    super();
  }

  static override forRoot(options: RateLimitOpenTelemetryOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  onModuleInit(): void {
    let engine: RateLimitEngine;
    try {
      engine = this.moduleRef.get(RateLimitEngine, { strict: false });
    } catch {
      throw new Error('RateLimitOpenTelemetryModule: no RateLimitModule in this app; import RateLimitModule.forRoot(...) too');
    }
    const { meter = metrics.getMeter('nestjs-redis-rate-limit'), storeDurationBuckets = RATE_LIMIT_STORE_DURATION_BUCKETS } = this.options;
    engine.addObserver(new OpenTelemetryRateLimitObserver(meter, storeDurationBuckets));
  }
}
