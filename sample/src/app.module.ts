import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RateLimitModule, type RateLimitModuleOptions } from 'nestjs-redis-rate-limit';
import { RateLimitHealthIndicator } from 'nestjs-redis-rate-limit/terminus';
import { ApiController } from './api/api.controller.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { HealthController } from './health/health.controller.js';
import { CompletionsController } from './llm/completions.controller.js';
import { PublicController } from './public/public.controller.js';
import { SAMPLE_CONFIG, type SampleConfig } from './sample-config.js';
import { SampleConfigModule } from './sample-config.module.js';

function rateLimitOptions(config: SampleConfig): RateLimitModuleOptions {
  const store: RateLimitModuleOptions = config.store === 'memory' ? { store: 'memory' } : { redis: config.redisUrl };
  return { ...store, keyPrefix: 'sample', headers: 'both' };
}

@Module({})
export class AppModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.register(config),
        RateLimitModule.forRootAsync({ inject: [SAMPLE_CONFIG], useFactory: rateLimitOptions }),
        TerminusModule,
      ],
      controllers: [PublicController, ApiController, CompletionsController, AuthController, HealthController, DashboardController],
      providers: [AuthService, RateLimitHealthIndicator],
    };
  }
}
