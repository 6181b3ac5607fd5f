import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RATE_LIMIT_OPTIONS, RATE_LIMIT_STORE } from './rate-limit.constants.js';
import { RATE_LIMIT_MODULE_OPTIONS, RateLimitConfigurableModule } from './rate-limit.module-definition.js';
import { resolveOptions } from './options/resolved-options.js';
import { createStore } from './store/create-store.js';
import { RateLimitEngine } from './engine/rate-limit-engine.js';
import { RateLimitExplorer } from './explorer/rate-limit.explorer.js';
import { RateLimitGuard } from './guards/rate-limit.guard.js';
import { RateLimitHeaderWriter } from './headers/rate-limit-header-writer.js';
import { RateLimitPolicyRegistry } from './policy/rate-limit-policy.registry.js';
import { RateLimiterService } from './services/rate-limiter.service.js';

/**
 * `RateLimitModule.forRoot(options)` / `forRootAsync({ useFactory | useClass | useExisting })`.
 * Import it once, in the root module.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: RATE_LIMIT_OPTIONS, useFactory: resolveOptions, inject: [RATE_LIMIT_MODULE_OPTIONS] },
    { provide: RATE_LIMIT_STORE, useFactory: createStore, inject: [RATE_LIMIT_OPTIONS] },
    RateLimitPolicyRegistry,
    RateLimitEngine,
    RateLimitHeaderWriter,
    RateLimitGuard,
    RateLimiterService,
    RateLimitExplorer,
  ],
  exports: [RATE_LIMIT_OPTIONS, RATE_LIMIT_STORE, RateLimitPolicyRegistry, RateLimitEngine, RateLimitHeaderWriter, RateLimitGuard, RateLimiterService],
})
export class RateLimitModule extends RateLimitConfigurableModule {}
