import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RateLimitModule, type RateLimitModuleOptions } from 'nestjs-redis-rate-limit';
import { RateLimitPrometheusModule } from 'nestjs-redis-rate-limit/prometheus';
import { RateLimitHealthIndicator } from 'nestjs-redis-rate-limit/terminus';
import { Registry } from 'prom-client';
import { ApiController } from './api/api.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { BlockedFeedController } from './demo/blocked-feed.controller.js';
import { DecisionFeed } from './demo/decision-feed.js';
import { DemoRoutesController } from './demo/demo-routes.controller.js';
import { NaiveLimiter } from './demo/naive-limiter.js';
import { RaceController } from './demo/race.controller.js';
import { RedisControlController } from './demo/redis-control.controller.js';
import { HealthController } from './health/health.controller.js';
import { CompletionsController } from './llm/completions.controller.js';
import { METRICS_REGISTRY } from './metrics/metrics-registry.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { PublicController } from './public/public.controller.js';
import { SAMPLE_CONFIG, type SampleConfig } from './sample-config.js';
import { SampleConfigModule } from './sample-config.module.js';

/** What the module's `onDecision` feeds: the log of blocked requests. */
@Module({ providers: [DecisionFeed], exports: [DecisionFeed] })
class DecisionsModule {}

function rateLimitOptions(config: SampleConfig, feed: DecisionFeed): RateLimitModuleOptions {
  const store: RateLimitModuleOptions = config.store === 'memory' ? { store: 'memory' } : { redis: config.redisUrl };
  return {
    ...store,
    keyPrefix: 'sample',
    headers: 'both',
    // Three instances, nginx, Redis and a browser may share a small machine: a little more than
    // the default 100 ms, so that only a stalled Redis, not a busy CPU, sends routes to failMode.
    timeout: 250,
    onDecision: feed.onDecision,
  };
}

@Module({})
export class AppModule {
  static register(config: SampleConfig): DynamicModule {
    // One registry per app: two instances in one process (the tests) keep their own counts.
    const registry = new Registry();
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.register(config),
        DecisionsModule,
        RateLimitModule.forRootAsync({ imports: [DecisionsModule], inject: [SAMPLE_CONFIG, DecisionFeed], useFactory: rateLimitOptions }),
        RateLimitPrometheusModule.forRoot({ registry }),
        TerminusModule,
      ],
      controllers: [
        PublicController,
        ApiController,
        CompletionsController,
        AuthController,
        HealthController,
        MetricsController,
        DashboardController,
        DemoRoutesController,
        RaceController,
        RedisControlController,
        BlockedFeedController,
      ],
      providers: [AuthService, RateLimitHealthIndicator, NaiveLimiter, { provide: METRICS_REGISTRY, useValue: registry }],
    };
  }
}
